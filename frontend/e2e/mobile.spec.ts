import { expect, test } from '@playwright/test'
import path from 'node:path'
import {
  ask,
  DOCS,
  expectNoHorizontalOverflow,
  registerViaUi,
  row,
  shot,
  uniqueEmail,
  upload,
  waitReady,
} from './helpers'

const PDF = path.join(DOCS, 'pdf', 'layout-parser-paper-fast.pdf')

// A phone-sized screen (an iPhone 12–15-class viewport), touch, in the same system Chromium.
test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })

test('on a phone: register, upload, chat, open a citation and get around without sideways scrolling', async ({ page }) => {
  await page.goto('/login')
  await expect(page.getByRole('heading', { name: 'Sign in to Citewise' })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'sign-in')

  await page.goto('/register')
  await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'register')
  await registerViaUi(page, uniqueEmail('mobile'))
  await expect(page.getByRole('heading', { name: 'Upload your first document' })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'documents (empty)')

  await upload(page, [PDF])
  await expect(row(page, 'layout-parser-paper-fast.pdf')).toBeVisible()
  await expectNoHorizontalOverflow(page, 'documents (processing)')
  await waitReady(page, 'layout-parser-paper-fast.pdf')
  await expectNoHorizontalOverflow(page, 'documents (ready)')

  await row(page, 'layout-parser-paper-fast.pdf').getByRole('link').tap()
  await expect(page.getByRole('heading', { name: 'layout-parser-paper-fast.pdf', level: 1 })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Passages' })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'document detail')

  // The header's icon navigation (labelled for assistive technology) reaches every section.
  const nav = page.getByRole('navigation', { name: 'Main' })
  await nav.getByRole('link', { name: 'Chat' }).tap()
  await expect(page.getByRole('heading', { name: 'What would you like to know?' })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'chat (welcome)')

  const answer = await ask(page, 'What is LayoutParser?')
  const chip = answer.getByTestId('citation-chip').first()
  await expect(chip).toBeVisible()
  await expectNoHorizontalOverflow(page, 'chat (answer)')
  await shot(page, 'mobile-chat')

  // The source viewer takes the whole screen as a dialog; the PDF page fits the width.
  await chip.tap()
  const viewer = page.getByRole('dialog').getByTestId('source-viewer')
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expect(viewer.getByTestId('pdf-page')).toBeVisible({ timeout: 30_000 })
  await expectNoHorizontalOverflow(page, 'source viewer')
  const box = await viewer.getByTestId('pdf-page').boundingBox()
  expect(box!.x).toBeGreaterThanOrEqual(0)
  expect(box!.x + box!.width).toBeLessThanOrEqual(390 + 1)
  await viewer.getByRole('button', { name: 'Close source viewer' }).tap()
  await expect(page.getByTestId('source-viewer')).toHaveCount(0)

  // Conversations live in a drawer on small screens.
  await page.getByRole('button', { name: 'Show conversations' }).tap()
  const drawer = page.getByRole('dialog', { name: 'Conversations' })
  await expect(drawer).toBeVisible()
  await expectNoHorizontalOverflow(page, 'conversations drawer')
  await drawer.getByRole('button', { name: 'New chat' }).tap()
  await expect(drawer).toHaveCount(0)
  await expect(page).toHaveURL(/\/chat$/)
  await page.getByRole('button', { name: 'Show conversations' }).tap()
  await page.getByRole('dialog', { name: 'Conversations' }).getByRole('link', { name: /What is LayoutParser/ }).tap()
  await expect(page.getByRole('dialog', { name: 'Conversations' })).toHaveCount(0)
  await expect(page.getByTestId('assistant-message').first()).toBeVisible()

  await nav.getByRole('link', { name: 'Account' }).tap()
  await expect(page.getByRole('heading', { name: 'Account', exact: true })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'account')

  await nav.getByRole('link', { name: 'Documents' }).tap()
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible()
  await expectNoHorizontalOverflow(page, 'documents')
})
