import { describe, expect, it } from 'vitest'
import { MAX_ZOOM, stepZoom, ZOOM_STEPS } from './zoom'

describe('stepZoom', () => {
  it('walks the steps both ways and stops at the ends', () => {
    expect(stepZoom(1, 1)).toBe(1.25)
    expect(stepZoom(1.25, -1)).toBe(1)
    expect(stepZoom(3, 1)).toBe(3)
    expect(stepZoom(0.5, -1)).toBe(0.5)
    const up: number[] = []
    for (let z: number = ZOOM_STEPS[0]; up.length < 20; z = stepZoom(z, 1)) {
      up.push(z)
      if (z === MAX_ZOOM) break
    }
    expect(up).toEqual([...ZOOM_STEPS])
  })

  it('snaps an in-between level to the neighbouring step', () => {
    expect(stepZoom(1.1, 1)).toBe(1.25)
    expect(stepZoom(1.1, -1)).toBe(1)
  })
})
