import { expect, test } from '@playwright/test'
import path from 'node:path'
import { ask, registerViaUi, uniqueEmail, upload, waitReady } from './helpers'

/**
 * The real evaluation corpus is an extra: this spec runs only when CITEWISE_EVAL_DOCS names its
 * folder (`make test` sets it when ../shared/eval/docs sits beside the checkout). Every other spec
 * uploads generated documents.
 */
const CORPUS = process.env.CITEWISE_EVAL_DOCS

test('a real two-column paper: the cited passage is highlighted on its page', async ({ page }) => {
  test.skip(!CORPUS, 'set CITEWISE_EVAL_DOCS=<path to shared/eval/docs> to run the real-document suites')
  const name = 'layout-parser-paper-fast.pdf'
  await registerViaUi(page, uniqueEmail('real'))
  await upload(page, [path.join(CORPUS!, 'pdf', name)])
  await waitReady(page, name)

  const answer = await ask(page, 'What is LayoutParser and what problems in document image analysis does it address?')
  const chip = answer.getByTestId('citation-chip').first()
  await expect(chip).toContainText(name)
  await chip.click()
  const viewer = page.getByTestId('source-viewer')
  const pageLabel = await viewer.locator('header p').textContent()
  const cited = Number(/(?:Page|p\.) (\d+)/.exec(pageLabel ?? '')?.[1] ?? '1')
  await expect(viewer.getByTestId('pdf-page')).toHaveAttribute('data-page', String(cited))
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expect(viewer.locator('.cw-textlayer .cw-hit').first()).toBeVisible({ timeout: 30_000 })
})
