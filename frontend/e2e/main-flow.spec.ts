import { expect, test } from '@playwright/test'
import path from 'node:path'
import { ask, DOCS, registerViaUi, row, shot, uniqueEmail, upload, waitReady } from './helpers'

const PDF = path.join(DOCS, 'pdf', 'layout-parser-paper-fast.pdf')
const DOCX = path.join(DOCS, 'docx', 'fake.docx')

test('register → upload → ready → ask → cited source → delete', async ({ page }) => {
  await page.goto('/login')
  await expect(page.getByRole('heading', { name: 'Sign in to Citewise' })).toBeVisible()
  await shot(page, 'login')

  await registerViaUi(page, uniqueEmail('main'))
  await expect(page.getByRole('heading', { name: 'Upload your first document' })).toBeVisible()

  await upload(page, [PDF, DOCX])
  await expect(page.getByTestId('upload-item')).toHaveCount(2)
  await expect(row(page, 'layout-parser-paper-fast.pdf')).toBeVisible()
  await shot(page, 'documents-progress')

  await waitReady(page, 'layout-parser-paper-fast.pdf')
  await waitReady(page, 'fake.docx')
  await expect(row(page, 'layout-parser-paper-fast.pdf')).toContainText('Ready')
  await shot(page, 'documents-ready')

  // The answer streams in (a streaming cursor, then the stored message) and cites a source.
  const answer = await ask(page, 'What is LayoutParser and what problems in document image analysis does it address?')
  await expect(answer.locator('.cw-prose')).not.toBeEmpty()
  const chip = answer.getByTestId('citation-chip').first()
  await expect(chip).toBeVisible()
  await expect(chip).toContainText('layout-parser-paper-fast.pdf')
  await shot(page, 'chat-citation')

  // Inline marker or chip: both open the source viewer at the cited page.
  const marker = answer.locator('button[data-citation]').first()
  await ((await marker.count()) > 0 ? marker : chip).click()
  const viewer = page.getByTestId('source-viewer')
  await expect(viewer).toBeVisible()
  const pageLabel = await viewer.locator('header p').textContent()
  const cited = Number(/Page (\d+)/.exec(pageLabel ?? '')?.[1] ?? '1')
  await expect(viewer.getByTestId('pdf-page')).toHaveAttribute('data-page', String(cited))
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expect(viewer.locator('.cw-textlayer .cw-hit').first()).toBeVisible({ timeout: 30_000 })
  await shot(page, 'source-viewer')
  await viewer.getByRole('button', { name: 'Close source viewer' }).click()

  await page.getByRole('link', { name: 'Documents' }).first().click()
  await row(page, 'layout-parser-paper-fast.pdf').getByRole('checkbox').check()
  await page.getByRole('button', { name: /^Delete 1$/ }).click()
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click()
  await expect(row(page, 'layout-parser-paper-fast.pdf')).toHaveCount(0)
  await expect(row(page, 'fake.docx')).toHaveCount(1)
})
