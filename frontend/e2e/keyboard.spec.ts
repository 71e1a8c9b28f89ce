import { expect, test, type Page } from '@playwright/test'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PASSWORD, uniqueEmail, upload, waitReady } from './helpers'

// Only Tab, Shift+Tab, Enter, Space, Escape and typing, once the account and its document exist.

/** What has the keyboard focus: its role-ish description, for assertions and failure messages. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    if (!el) return { name: '', tag: '', href: '', testid: '', inDialog: false, outlined: false }
    const style = getComputedStyle(el)
    return {
      name: (el.getAttribute('aria-label') || el.textContent || '').trim(),
      tag: el.tagName.toLowerCase(),
      href: el.getAttribute('href') ?? '',
      testid: el.dataset.testid ?? '',
      inDialog: Boolean(el.closest('[role="dialog"], [role="alertdialog"]')),
      // A visible focus indicator: an outline or a ring (box-shadow).
      outlined: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
    }
  })
}

/** Presses Tab (or Shift+Tab) until the focused element matches, checking each stop shows focus. */
async function tabTo(page: Page, match: (f: Awaited<ReturnType<typeof focused>>) => boolean, back = false, max = 40) {
  const seen: string[] = []
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const f = await focused(page)
    seen.push(`${f.tag}:${f.name.slice(0, 40)}`)
    expect(f.outlined, `no visible focus indicator on ${f.tag} "${f.name.slice(0, 60)}"; visited: ${seen.join(' → ')}`).toBe(true)
    if (match(f)) return f
  }
  throw new Error(`focus never reached the target; visited: ${seen.join(' → ')}`)
}

test('sign in, ask and open a source with the keyboard alone; dialogs trap focus and close on Escape', async ({ page }) => {
  // Set-up (not part of the keyboard journey): an account with one ready document, then signed out.
  const email = uniqueEmail('kbd')
  const reg = await page.request.post('/api/v1/auth/register', {
    data: { email, password: PASSWORD, display_name: 'Keyboard User' },
  })
  expect(reg.status()).toBe(202) // registering starts no session: sign in
  const signIn = await page.request.post('/api/v1/auth/login', { data: { email, password: PASSWORD } })
  expect(signIn.ok()).toBe(true)
  await page.goto('/documents')
  const file = path.join(os.tmpdir(), `keyboard-notes-${Date.now()}.md`)
  writeFileSync(file, '# Orchard notes\n\nThe Bramley apple trees are pruned in late winter, before the buds open.\n')
  const name = path.basename(file)
  await upload(page, [file])
  await waitReady(page, name)
  await page.context().clearCookies()

  // Sign in: the email field has focus on arrival.
  await page.goto('/login')
  await expect(page.getByLabel('Email')).toBeFocused()
  await page.keyboard.type(email)
  await page.keyboard.press('Tab')
  await expect(page.getByLabel('Password')).toBeFocused()
  await page.keyboard.type(PASSWORD)
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/documents$/)
  await expect(page.getByTestId('document-row')).toHaveCount(1)

  // The skip link comes first and jumps to the content.
  await page.keyboard.press('Tab')
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused()

  // To the chat through the main navigation.
  await tabTo(page, (f) => f.tag === 'a' && f.href === '/chat')
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/chat$/)
  const composer = page.getByLabel('Ask a question')
  await expect(composer).toBeFocused()
  await page.keyboard.type('When are the apple trees pruned?')
  await page.keyboard.press('Enter')
  const answer = page.getByTestId('assistant-message').last()
  await expect(answer).toHaveAttribute('data-status', 'complete', { timeout: 120_000 })
  await expect(answer.getByTestId('citation-chip').first()).toBeVisible()

  // Back from the composer to a citation, open it, close it with Escape: focus returns to the citation.
  await composer.focus() // (the composer keeps focus after sending; this only makes the start explicit)
  await tabTo(page, (f) => f.testid === 'citation-chip', true)
  await page.keyboard.press('Enter')
  const viewer = page.getByTestId('source-viewer')
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expect(viewer).toBeFocused()
  await page.keyboard.press('Escape')
  await expect(viewer).toHaveCount(0)
  await expect.poll(async () => (await focused(page)).testid).toBe('citation-chip')

  // The delete confirmation: focus starts inside, Tab and Shift+Tab stay inside, Escape closes it.
  await page.goto('/documents')
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible()
  await tabTo(page, (f) => f.name === `Select ${name}`)
  await page.keyboard.press('Space')
  await expect(page.getByRole('checkbox', { name: `Select ${name}` })).toBeChecked()
  await tabTo(page, (f) => f.tag === 'button' && /^Delete 1$/.test(f.name), true)
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('alertdialog')
  await expect(dialog).toBeVisible()
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused()
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
    await page.keyboard.press(key)
    expect((await focused(page)).inDialog, `focus left the dialog after ${key}`).toBe(true)
  }
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(page.getByRole('button', { name: /^Delete 1$/ })).toBeFocused()
  await expect(page.getByTestId('document-row').filter({ hasText: name })).toHaveCount(1)
})
