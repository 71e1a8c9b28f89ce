import { expect, test, type Page } from '@playwright/test'
import { newUser, row, signIn, testDocument, uniqueEmail, upload, waitReady } from './helpers'

// The admin side needs an administrator account: scripts/e2e.sh creates one.
const adminEmail = process.env.E2E_ADMIN_EMAIL
const adminPassword = process.env.E2E_ADMIN_PASSWORD

interface ApiJob {
  id: string
  filename: string | null
  status: string
  attempts: number
  worker: string
  error: string | null
  document_status: string | null
}

async function apiJobs(page: Page, status: string): Promise<ApiJob[]> {
  const res = await page.request.get(`/api/v1/admin/jobs?status=${status}&page_size=100`)
  expect(res.status()).toBe(200)
  return ((await res.json()) as { items: ApiJob[] }).items
}

test('a scanned PDF becomes ready and its words are found, with no system OCR package', async ({ browser }) => {
  const { context, page } = await newUser(browser, 'scan')
  await upload(page, [testDocument('scanned-memo.pdf')])
  await waitReady(page, 'scanned-memo.pdf')
  await row(page, 'scanned-memo.pdf').getByRole('link', { name: 'scanned-memo.pdf' }).click()
  await expect(page.locator('body')).toContainText('the foghorn was repaired on Thursday and tested at dawn')
  await context.close()
})

test('the Jobs view shows a real failed job as the API reports it, and Retry only where it can help', async ({ browser }) => {
  test.skip(!adminEmail || !adminPassword, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  // A user uploads a file with no text in it: its processing job really fails.
  const { context, page, email } = await newUser(browser, 'jobs')
  const id = `${Date.now()}`
  const blank = `blank-${id}.txt`
  const good = `tide-table-${id}.md`
  await page.getByTestId('file-input').setInputFiles([
    { name: blank, mimeType: 'text/plain', buffer: Buffer.from('\n') },
    { name: good, mimeType: 'text/markdown', buffer: Buffer.from('# Tide table\n\nHigh water at the pier is at 06:40.\n') },
  ])
  await expect(row(page, blank)).toHaveAttribute('data-status', 'failed', { timeout: 180_000 })
  await waitReady(page, good)
  // The same empty file would fail the same way: the owner is not offered a Retry that cannot help.
  await expect(row(page, blank)).toContainText('No extractable text')
  await expect(row(page, blank).getByRole('button', { name: `Retry ${blank}` })).toHaveCount(0)
  await context.close()

  const admin = await browser.newPage()
  await signIn(admin, adminEmail!, adminPassword!)
  await admin.goto('/admin?tab=jobs')
  const status = admin.getByRole('combobox', { name: 'Job status' })
  // The filter offers exactly the statuses the API gives jobs.
  await expect(status.locator('option')).toHaveText(['All jobs', 'Running', 'Failed', 'Retrying', 'Succeeded', 'Interrupted', 'Skipped'])

  await status.selectOption('failed')
  const failedJob = (await apiJobs(admin, 'failed')).find((j) => j.filename === blank)
  expect(failedJob, 'the API lists the failed attempt').toBeTruthy()
  const failedRow = admin.getByTestId('job-row').filter({ hasText: blank })
  await expect(failedRow).toHaveAttribute('data-status', 'failed')
  await expect(failedRow).toContainText('Failed')
  await expect(failedRow).toContainText(email)
  await expect(failedRow.getByTestId('job-error')).toHaveText(failedJob!.error!)
  await expect(failedRow.getByRole('cell').nth(2)).toHaveText(String(failedJob!.attempts))
  expect(failedJob!.worker).not.toBe('')
  await expect(failedRow).toContainText(failedJob!.worker)
  await expect(failedRow).toContainText(/\d+\.\d s/) // its duration
  await expect(failedRow.getByRole('button', { name: `Retry ${blank}` })).toBeVisible()
  // Every row under "Failed" is a failed job, as the API says.
  for (const s of await admin.getByTestId('job-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))) {
    expect(s).toBe('failed')
  }

  await status.selectOption('succeeded')
  const goodRow = admin.getByTestId('job-row').filter({ hasText: good })
  await expect(goodRow).toHaveAttribute('data-status', 'succeeded')
  await expect(goodRow).toContainText('Succeeded')
  await expect(admin.getByTestId('job-row').filter({ hasText: blank })).toHaveCount(0)

  // "All jobs" shows both, each with its own status.
  await status.selectOption('')
  await expect(admin.getByTestId('job-row').filter({ hasText: blank })).toHaveAttribute('data-status', 'failed')
  await expect(admin.getByTestId('job-row').filter({ hasText: good })).toHaveAttribute('data-status', 'succeeded')
  await expect(admin.getByTestId('queue-summary')).toContainText(/\d+ queued · \d+ processing · \d+ failed documents/)
  await admin.close()
})

test('"Test connection" tests the values typed in the form, without saving them', async ({ page }) => {
  test.skip(!adminEmail || !adminPassword, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  await signIn(page, adminEmail!, adminPassword!)
  await page.goto('/admin?tab=settings')
  const llm = page.locator('fieldset').filter({ has: page.getByText('Language model', { exact: true }) })
  const baseUrl = llm.getByLabel('Base URL')
  const saved = await baseUrl.inputValue()
  const typed = `http://127.0.0.1:9/v1/${uniqueEmail('x').slice(0, 12)}` // nothing listens on port 9
  await baseUrl.fill(typed)
  await llm.getByRole('button', { name: 'Test connection' }).click()
  const result = llm.getByTestId('connection-result')
  await expect(result).toHaveAttribute('data-ok', 'false')
  await expect(result).toContainText('Connection failed')
  await expect(result).toContainText(typed) // the address typed, not the saved one, was tried
  // Nothing was saved: a fresh load shows the saved value.
  await page.reload()
  await expect(page.locator('fieldset').filter({ has: page.getByText('Language model', { exact: true }) })
    .getByLabel('Base URL')).toHaveValue(saved)
})
