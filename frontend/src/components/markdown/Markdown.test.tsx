import { describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen } from '@testing-library/react'
import { Markdown, safeUrl } from './Markdown'
import { printedValues, splitCitations } from './remarkCitations'

describe('Markdown (untrusted input)', () => {
  it('renders <script> as text, never as an element', () => {
    const { container } = render(<Markdown>{'Hello <script>alert(1)</script> world'}</Markdown>)
    expect(container.querySelector('script')).toBeNull()
    expect(container.textContent).toContain('<script>alert(1)</script>')
  })

  it('does not render raw HTML elements or event handlers', () => {
    const { container } = render(<Markdown>{'<img src="http://example.invalid/a.png" onerror="alert(1)">\n\n<iframe src="http://x"></iframe>'}</Markdown>)
    expect(container.querySelector('img')).toBeNull()
    expect(container.querySelector('iframe')).toBeNull()
    expect(container.querySelector('[onerror]')).toBeNull()
  })

  it('never creates an <img> for Markdown images; shows the alt text', () => {
    const { container } = render(<Markdown>{'![x](http://example.invalid/x.png)'}</Markdown>)
    expect(container.querySelector('img')).toBeNull()
    expect(container.innerHTML).not.toContain('example.invalid')
    expect(screen.getByText('Image: x')).toBeInTheDocument()
  })

  it('keeps http(s) and mailto links, with rel noreferrer noopener, and drops javascript:', () => {
    const { container } = render(
      <Markdown>{'[a](https://example.org/a) [b](mailto:x@y.z) [c](javascript:alert(1)) [d](data:text/html,hi)'}</Markdown>,
    )
    const links = [...container.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.org/a', 'mailto:x@y.z'])
    links.forEach((a) => expect(a.getAttribute('rel')).toBe('noreferrer noopener'))
    expect(container.textContent).toContain('c')
    expect(container.innerHTML).not.toContain('javascript:')
  })

  it('safeUrl allows only http(s), mailto and relative URLs', () => {
    expect(safeUrl('https://a.b')).toBe('https://a.b')
    expect(safeUrl(' JavaScript:alert(1)')).toBe('')
    expect(safeUrl('vbscript:x')).toBe('')
    expect(safeUrl('#frag')).toBe('#frag')
  })
})

describe('citation markers', () => {
  it('turns [n] into buttons that report the index', () => {
    const onCite = vi.fn()
    render(
      <Markdown onCite={onCite} knownCitations={new Set([1, 2])} citationLabel={(n) => `doc.pdf, p. ${n}`}>
        {'Water boils at 100 °C [1] and freezes at 0 °C [2].'}
      </Markdown>,
    )
    const b = screen.getByRole('button', { name: 'Source 2: doc.pdf, p. 2' })
    fireEvent.click(b)
    expect(onCite).toHaveBeenCalledWith(2)
    expect(screen.getAllByRole('button')).toHaveLength(2)
  })

  it('splits grouped markers and leaves unknown ones and code as text', () => {
    render(
      <Markdown knownCitations={new Set([1, 3])}>{'See [1, 3] and [7]. `arr[1]`'}</Markdown>,
    )
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['1', '3'])
    expect(screen.getByText(/\[7\]/)).toBeInTheDocument()
    expect(screen.getByText('arr[1]').tagName).toBe('CODE')
  })

  it('splitCitations keeps the surrounding text', () => {
    const parts = splitCitations('a [1] b [2,3]')
    expect(parts.map((p) => (p.type === 'citeMarker' ? `#${p.data.hProperties.dataCite}` : p.type === 'text' ? p.value : '!'))).toEqual([
      'a ', '#1', ' b ', '#2', '#3',
    ])
  })

  it("leaves R's printed output as text: its [1] numbers a value, it cites nothing", () => {
    render(
      <Markdown knownCitations={new Set([1])}>
        {'The vector holds three values [1].\n[1] 1 2 3\n[1] "u" "v"\n[1] 2023'}
      </Markdown>,
    )
    // Only the marker after the sentence cites; "[1] 2023" alone may be a model's list of sources.
    expect(screen.getAllByRole('button')).toHaveLength(2)
    expect(screen.getByText(/\[1\] 1 2 3/)).toBeInTheDocument()
    expect(printedValues('[1] 1 2 3')).toBe(true)
    expect(printedValues('## [1] TRUE NA')).toBe(true)
    expect(printedValues('[1] "only one quoted"')).toBe(true)
    expect(printedValues('[1] 2023')).toBe(false)
    expect(printedValues('The answer [1] 2 3')).toBe(false)
  })

  it('renders the server\'s flag on an unsupported sentence as a note, not as a citation', () => {
    render(
      <Markdown knownCitations={new Set([1])}>
        {'The port is 8443 [1]. The timeout is 99 seconds [not found in your documents]. `[not found in your documents]`'}
      </Markdown>,
    )
    const flags = screen.getAllByTestId('unsupported-flag')
    expect(flags).toHaveLength(1) // the one in a code span stays code
    expect(flags[0]).toHaveTextContent('not found in your documents')
    expect(flags[0]).toHaveAttribute('role', 'note')
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['1'])
    expect(screen.getByText('[not found in your documents]').tagName).toBe('CODE')
  })
})
