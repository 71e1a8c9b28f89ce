import { expect, test, type Page } from '@playwright/test'
import { expectNoHorizontalOverflow, PASSWORD, registerViaUi, row, shot, signIn, uniqueEmail, waitReady } from './helpers'

// The web app as a new user meets it: a phone-sized screen, sign-in that keeps where you were going,
// filters that survive a reload, a quiet signed-out load and an upload panel that tells the truth.
// Every document here is made in the spec itself.

interface InlineFile {
  name: string
  mimeType: string
  buffer: Buffer
}

function markdown(name: string, lines: string[]): InlineFile {
  return { name, mimeType: 'text/markdown', buffer: Buffer.from(lines.join('\n') + '\n') }
}

function text(name: string, body: string): InlineFile {
  return { name, mimeType: 'text/plain', buffer: Buffer.from(body + '\n') }
}

/** A one-page PDF (US Letter, Helvetica) with the given lines of text, built byte by byte. */
function pdf(name: string, lines: string[]): InlineFile {
  const esc = (t: string) => t.replace(/[\\()]/g, (c) => `\\${c}`)
  const content = `BT /F1 12 Tf 72 720 Td 16 TL ${lines.map((l) => `(${esc(l)}) Tj T*`).join(' ')} ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'))
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(out, 'latin1')
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return { name, mimeType: 'application/pdf', buffer: Buffer.from(out, 'latin1') }
}

const stamp = () => `${Date.now()}-${Math.floor(Math.random() * 1e4)}`

async function uploadInline(page: Page, files: InlineFile[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files)
}

/** An account made through the API, then signed out: the browser has no session. */
async function accountSignedOut(page: Page, tag: string): Promise<string> {
  const email = uniqueEmail(tag)
  const res = await page.request.post('/api/v1/auth/register', { data: { email, password: PASSWORD } })
  expect(res.status()).toBe(202) // the same answer for a new or a taken address, and no session
  await page.context().clearCookies()
  return email
}

test.describe('on a 390×844 phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })

  test('the documents page and the chat never scroll sideways', async ({ page }) => {
    await registerViaUi(page, uniqueEmail('narrow'), 'Browser Tester')
    // The avatar shows the first letters of the first and last names.
    await expect(page.getByRole('button', { name: /account menu/i })).toHaveText('BT')

    const id = stamp()
    const long = `quarterly-operations-review-for-the-northern-distribution-centre-${id}.md`
    const short = `dock-${id}.txt`
    const manual = `cold-chain-manual-${id}.pdf`
    await uploadInline(page, [
      markdown(long, [
        '# Northern distribution centre',
        '',
        '## Staffing',
        '',
        'The northern distribution centre runs three shifts, each led by a shift manager.',
      ]),
      text(short, 'Forklift batteries are charged overnight in the east bay and swapped at the start of each shift.'),
      pdf(manual, [
        'Cold-chain manual',
        'The northern distribution centre has fourteen loading docks.',
        'Dock seven is reserved for refrigerated trailers.',
        'It is inspected every Tuesday by the cold-chain supervisor.',
      ]),
    ])
    await expect(row(page, long)).toBeVisible()
    await expectNoHorizontalOverflow(page, 'documents (uploading)')
    for (const f of [long, short, manual]) await waitReady(page, f)
    await expectNoHorizontalOverflow(page, 'documents (ready)')

    // Every part of a document is on screen: its name (shortened), status, size, pages and actions.
    const card = row(page, long)
    const box = (await card.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(390)
    for (const part of [card.getByRole('link'), card.getByText('Ready'), card.getByText(/\d+ B · /), card.getByRole('button', { name: `Ask about ${long}` })]) {
      const b = (await part.boundingBox())!
      expect(b.x + b.width, `${await part.textContent()} sticks out`).toBeLessThanOrEqual(390)
    }
    await shot(page, 'mobile-documents')

    // The sort control replaces the table headers on a phone.
    await page.getByLabel('Sort by').selectOption('filename:asc')
    const rows = page.getByTestId('document-row')
    await expect(rows.nth(0)).toContainText(manual)
    await expect(rows.nth(1)).toContainText(short)
    await expect(rows.nth(2)).toContainText(long)
    await expect(page).toHaveURL(/[?&]sort=filename&order=asc(&|$)/)
    await expectNoHorizontalOverflow(page, 'documents (sorted)')

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).tap()
    await expect(page.getByRole('heading', { name: 'What would you like to know?' })).toBeVisible()
    await expectNoHorizontalOverflow(page, 'chat (welcome)')
    await page.getByLabel('Ask a question').fill('Which loading dock is reserved for refrigerated trailers?')
    await page.getByRole('button', { name: 'Send' }).tap()
    const answer = page.getByTestId('assistant-message').last()
    await expect(answer).toHaveAttribute('data-status', 'complete', { timeout: 120_000 })
    await expect(answer.getByTestId('citation-chip').first()).toBeVisible()
    await expectNoHorizontalOverflow(page, 'chat (answer)')

    // The PDF source opens full screen, its page as wide as the screen allows.
    await answer.getByTestId('citation-chip').filter({ hasText: manual }).first().tap()
    const viewer = page.getByRole('dialog').getByTestId('source-viewer')
    await expect(viewer.getByTestId('cited-passage').first()).toBeVisible()
    const sheet = viewer.getByTestId('pdf-page')
    await expect(sheet).toBeVisible({ timeout: 30_000 })
    await expect(viewer.getByTestId('pdf-zoom')).toHaveText('100%')
    const fit = (await sheet.boundingBox())!
    expect(fit.x).toBeGreaterThanOrEqual(0)
    expect(fit.x + fit.width).toBeLessThanOrEqual(390)
    expect(fit.width, 'the page fills the width of the screen').toBeGreaterThan(390 * 0.9)
    await expectNoHorizontalOverflow(page, 'chat (source)')

    // Zoom buttons, no pinching: the page grows and scrolls inside the viewer, not the whole screen.
    await viewer.getByRole('button', { name: 'Zoom in' }).tap()
    await viewer.getByRole('button', { name: 'Zoom in' }).tap()
    await expect(viewer.getByTestId('pdf-zoom')).toHaveText('150%')
    await expect.poll(async () => (await sheet.boundingBox())!.width).toBeGreaterThan(fit.width * 1.4)
    const scroller = viewer.getByTestId('pdf-scroller')
    expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
    await expectNoHorizontalOverflow(page, 'chat (source, zoomed)')
    await viewer.getByRole('button', { name: 'Fit to width' }).tap()
    await expect(viewer.getByTestId('pdf-zoom')).toHaveText('100%')
    await expect.poll(async () => Math.round((await sheet.boundingBox())!.width)).toBe(Math.round(fit.width))
  })
})

test('the suggested prompts work: the newest document is summarised with its sources', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('suggest'), 'Suggestion Tester')
  const name = `harbour-guide-${stamp()}.md`
  await uploadInline(page, [
    markdown(name, [
      '# Harbour guide',
      '',
      '## Cranes',
      '',
      'The harbour tool moves shipping containers between terminals with scheduled cranes.',
      '',
      '## Trucks',
      '',
      'Trucks carry containers from the quay to the terminals on fixed routes.',
    ]),
  ])
  await waitReady(page, name)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click()
  await page.getByRole('button', { name: `What is “${name}” about?` }).click()
  const answer = page.getByTestId('assistant-message').last()
  await expect(answer).toHaveAttribute('data-status', 'complete', { timeout: 120_000 })
  await expect(answer).toContainText('The harbour tool moves shipping containers between terminals')
  await expect(answer.getByTestId('citation-chip').filter({ hasText: name }).first()).toBeVisible()
  await expect(page.getByRole('button', { name: 'Summarise the main points of my documents' })).toHaveCount(0)
})

test('sign-in goes to the page that asked for it, and stays there', async ({ page }) => {
  const email = await accountSignedOut(page, 'next')

  // A protected page sends a signed-out visitor to sign in, remembering where they were going.
  await page.goto('/chat')
  await expect(page).toHaveURL(/\/login\?next=%2Fchat$/)

  await page.goto('/login?next=/chat')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/chat$/)
  await expect(page.getByLabel('Ask a question')).toBeVisible()
  // It used to open the page and then jump to /documents: give it the time to do that.
  await page.waitForTimeout(2000)
  await expect(page).toHaveURL(/\/chat$/)

  // Anything but a path of this app is ignored.
  for (const next of ['//evil.example/chat', 'https://evil.example/', '/\\evil.example', '/login']) {
    await page.context().clearCookies()
    await page.goto(`/login?next=${encodeURIComponent(next)}`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page, `next=${next}`).toHaveURL(/\/documents$/)
  }
})

test('search, filters and sort live in the URL: they survive a reload and work as a link', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('filters'))
  const id = stamp()
  const report = `harbour-report-${id}.md`
  const notes = `harbour-notes-${id}.txt`
  const other = `orchard-${id}.txt`
  await uploadInline(page, [
    markdown(report, ['# Harbour report', '', 'The harbour master logs every arrival before noon.']),
    text(notes, 'Harbour notes: the pilot boat refuels on Fridays.'),
    text(other, 'The orchard is pruned in late winter.'),
  ])
  for (const f of [report, notes, other]) await waitReady(page, f)

  await page.getByLabel('Search documents').fill('harbour')
  await page.getByLabel('Filter by status').selectOption('ready')
  await page.getByLabel('Filter by type').selectOption('text/plain')
  await expect(page).toHaveURL(/[?&]q=harbour(&|$)/)
  await expect(page).toHaveURL(/[?&]status=ready(&|$)/)
  await expect(page).toHaveURL(/[?&]type=text%2Fplain(&|$)/)
  await expect(page.getByTestId('document-row')).toHaveCount(1)
  await expect(row(page, notes)).toBeVisible()
  await page.getByRole('button', { name: 'Name' }).click()
  await expect(page).toHaveURL(/[?&]sort=filename&order=asc(&|$)/)

  await page.reload()
  await expect(page.getByLabel('Search documents')).toHaveValue('harbour')
  await expect(page.getByLabel('Filter by status')).toHaveValue('ready')
  await expect(page.getByLabel('Filter by type')).toHaveValue('text/plain')
  await expect(page.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending')
  await expect(page.getByTestId('document-row')).toHaveCount(1)
  await expect(row(page, notes)).toBeVisible()

  // The same link in another tab of the same account shows the same list.
  const link = page.url()
  const tab = await page.context().newPage()
  await tab.goto(link)
  await expect(tab.getByLabel('Search documents')).toHaveValue('harbour')
  await expect(tab.getByTestId('document-row')).toHaveCount(1)
  await tab.close()

  // Clearing the filters clears the URL too.
  await page.getByRole('button', { name: 'Clear filters' }).click()
  await expect(page.getByTestId('document-row')).toHaveCount(3)
  await expect(page).not.toHaveURL(/[?&](q|status|type)=/)
  await expect(page.getByLabel('Search documents')).toHaveValue('')
})

test('a signed-out load of / logs no console error and asks the server for no session', async ({ browser }) => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors: string[] = []
  const failed: string[] = []
  const asked: string[] = []
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`))
  page.on('request', (r) => r.url().includes('/api/v1/auth/') && asked.push(r.url()))

  await page.goto('/')
  await expect(page).toHaveURL(/\/login$/)
  await expect(page.getByRole('heading', { name: 'Sign in to Citewise' })).toBeVisible()
  await page.waitForLoadState('networkidle')
  expect(errors).toEqual([])
  expect(failed).toEqual([])
  expect(asked).toEqual([])

  // FastAPI's usual documentation addresses lead to the API docs rather than to the app.
  await page.goto('/docs')
  await expect(page).toHaveURL(/\/api\/docs$/)
  const spec = await page.request.get('/openapi.json')
  expect(spec.ok()).toBe(true)
  expect(spec.url()).toMatch(/\/api\/openapi\.json$/)
  expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\./)
  await context.close()
})

test('the upload panel follows each file to "ready", or says why it failed or was refused', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('uploads'))
  const id = stamp()
  const good = `lighthouse-${id}.md`
  const blank = `blank-${id}.txt`
  await uploadInline(page, [
    markdown(good, ['# Lighthouse', '', 'The lamp is lit at dusk and the lens is polished every morning.']),
    text(blank, ''), // a lone newline: accepted, but there is no text to index
    { name: `empty-${id}.txt`, mimeType: 'text/plain', buffer: Buffer.alloc(0) }, // refused at upload
  ])
  const panel = page.getByRole('region', { name: /Uploads/ })
  const item = panel.getByTestId('upload-item').filter({ hasText: good })
  await expect(item).toBeVisible()
  await expect(item).toHaveAttribute('data-status', 'ready', { timeout: 180_000 })
  await expect(item).toContainText('Ready')
  await expect(item).not.toContainText('processing starts shortly')
  // The panel agrees with the library.
  await waitReady(page, good)

  const failed = panel.getByTestId('upload-item').filter({ hasText: blank })
  await expect(failed).toHaveAttribute('data-status', 'failed', { timeout: 180_000 })
  await expect(failed).toContainText('Processing failed')
  await expect(row(page, blank)).toHaveAttribute('data-status', 'failed')
  const refused = panel.getByTestId('upload-item').filter({ hasText: `empty-${id}.txt` })
  await expect(refused).toHaveAttribute('data-status', 'rejected')
  await expect(refused).toContainText('The file is empty')
  await expect(panel.getByTestId('uploads-summary')).toHaveText('1 of 2 ready')
  await shot(page, 'upload-panel')

  await panel.getByRole('button', { name: 'Clear finished' }).click()
  await expect(page.getByRole('region', { name: /Uploads/ })).toHaveCount(0)
})

test('the API documentation is linked beside the API keys', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('apidocs'))
  await page.goto('/account')
  await expect(page.getByRole('heading', { name: 'Personal API keys' })).toBeVisible()
  const link = page.getByRole('link', { name: /API documentation/ })
  await expect(link).toBeVisible()
  await expect(link).toHaveAttribute('href', '/api/docs')
  const [docs] = await Promise.all([page.context().waitForEvent('page'), link.click()])
  await expect(docs).toHaveURL(/\/api\/docs$/)
  await expect(docs).toHaveTitle(/Citewise/)
  await docs.close()
})

test('an administrator reads the whole "Test connection" message', async ({ page }) => {
  const email = process.env.E2E_ADMIN_EMAIL
  const password = process.env.E2E_ADMIN_PASSWORD
  test.skip(!email || !password, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  await signIn(page, email!, password!)
  await page.goto('/admin?tab=settings')
  const llm = page.locator('fieldset').filter({ has: page.getByText('Language model', { exact: true }) })
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/settings/test')),
    llm.getByRole('button', { name: 'Test connection' }).click(),
  ])
  const { detail } = (await res.json()) as { detail: string }
  expect(detail.length).toBeGreaterThan(20)
  const result = llm.getByTestId('connection-result')
  await expect(result).toContainText(detail)
  // Nothing of it is cut off: the text wraps inside the section instead.
  const clipped = await result.evaluate((el) => {
    const box = el.getBoundingClientRect()
    const section = el.closest('fieldset')!.getBoundingClientRect()
    return el.scrollWidth > el.clientWidth || box.right > section.right
  })
  expect(clipped).toBe(false)
})
