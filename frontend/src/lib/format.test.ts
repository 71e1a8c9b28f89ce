import { describe, expect, it } from 'vitest'
import { ordinal, queueLine } from './format'

describe('queueLine', () => {
  it('says the place in line and the estimate', () => {
    expect(queueLine(3, 120)).toBe('3rd in line · about 2 min')
    expect(queueLine(1, 20)).toBe('Next in line · under a minute')
    expect(queueLine(22, 7200)).toBe('22nd in line · about 2 h')
    expect(queueLine(11, null)).toBe('11th in line')
    expect(queueLine(null, 60)).toBeNull()
  })

  it('writes English ordinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 102, 111].map(ordinal)).toEqual(
      ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '102nd', '111th'])
  })
})
