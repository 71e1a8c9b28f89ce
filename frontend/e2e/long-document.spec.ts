import { expect, test } from '@playwright/test'
import { ask, registerViaUi, row, testDocument, uniqueEmail, upload, waitReady } from './helpers'

/**
 * A 60-page handbook (backend/tests/docgen.py long_handbook): its ~140 KB of text outgrows the
 * extraction host's pipe, which the server reads under uvloop, as `make run` does. Page 47 alone
 * says where the quartermaster's spare key is kept.
 */
const NAME = 'harbour-handbook.pdf'

interface ApiDocument {
  filename: string
  status: string
  attempts: number
  page_count: number | null
}

test('a long PDF is read whole on its first attempt, with progress; its fact is cited at its page, and "not found" points there', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('long'))
  await upload(page, [testDocument(NAME)])
  // Visible progress while it is processed: the stage and a percentage on its row.
  await expect(row(page, NAME)).toContainText(/\d+%/)
  await waitReady(page, NAME)

  // Read whole the first time: a reader that failed on large replies would only get there by retrying.
  const res = await page.request.get('/api/v1/documents?page_size=100')
  expect(res.status()).toBe(200)
  const doc = ((await res.json()) as { items: ApiDocument[] }).items.find((d) => d.filename === NAME)
  expect(doc).toMatchObject({ status: 'ready', attempts: 1, page_count: 60 })

  const answer = await ask(page, "Where is the quartermaster's spare key kept?")
  await expect(answer.locator('.cw-prose')).toContainText('blue tin behind the tide clock')
  const chip = answer.getByTestId('citation-chip').first()
  await expect(chip).toContainText(NAME)
  await chip.click()
  const viewer = page.getByTestId('source-viewer')
  await expect(viewer.getByTestId('pdf-page')).toHaveAttribute('data-page', '47')
  await expect(viewer.getByTestId('cited-passage')).toContainText('quartermaster')
  await viewer.getByRole('button', { name: 'Close source viewer' }).click()

  // Nothing says how old the key is: "not found", with the closest passage quoted and cited first
  // (a second one follows when another page shares two words of the question).
  const refusal = await ask(page, "How old is the quartermaster's spare key?")
  await expect(refusal.locator('.cw-prose')).toContainText('I could not find an answer to that.')
  await expect(refusal.locator('.cw-prose')).toContainText(
    /The closest passages? in your documents says?: “The quartermaster/)
  await expect(refusal.getByTestId('citation-chip').first()).toContainText(NAME)
})
