import { expect, test, type Page } from '@playwright/test'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  ask,
  expectAccessible,
  registerViaUi,
  row,
  setTheme,
  shot,
  signIn,
  uniqueEmail,
  upload,
  waitReady,
} from './helpers'

// Every main screen, in the light and the dark theme, must have no serious or critical
// WCAG 2 A/AA violation according to axe. Loading, empty and error states included.

function markdownFile(): string {
  const file = path.join(os.tmpdir(), `a11y-handbook-${Date.now()}.md`)
  writeFileSync(
    file,
    [
      '# Lighthouse keeper handbook',
      '',
      '## Lamp maintenance',
      '',
      'The lamp of the Kestrel Point lighthouse is cleaned every morning at dawn. The keeper trims the wick,',
      'polishes the Fresnel lens with a soft cloth and records the oil level in the logbook.',
      '',
      '## Fog signals',
      '',
      'When visibility drops below two nautical miles the keeper sounds the fog horn twice every minute.',
      'The horn is tested on the first Monday of every month.',
      '',
    ].join('\n'),
  )
  return file
}

/** Holds every request matching `url` until the returned function is called. */
async function holdRequests(page: Page, url: RegExp): Promise<() => Promise<void>> {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const handler = async (route: import('@playwright/test').Route) => {
    await gate
    await route.continue().catch(() => {})
  }
  await page.route(url, handler)
  return async () => {
    release()
    await page.unroute(url, handler)
  }
}

const DOCUMENTS_LIST = /\/api\/v1\/documents(\?|$)/

test('sign-in and registration screens are accessible', async ({ page }) => {
  await page.goto('/login')
  await expect(page.getByRole('heading', { name: 'Sign in to Citewise' })).toBeVisible()
  await expectAccessible(page, 'sign-in')

  await page.getByLabel('Email').fill('nobody@example.com')
  await page.getByLabel('Password').fill('definitely wrong')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toContainText('Wrong email or password')
  await expectAccessible(page, 'sign-in error')

  await page.goto('/register')
  await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible()
  await expectAccessible(page, 'register')
})

test('the signed-in screens are accessible: documents, detail, chat, sources, account', async ({ page }) => {
  await registerViaUi(page, uniqueEmail('a11y'))

  // Empty library and empty chat.
  await expect(page.getByRole('heading', { name: 'Upload your first document' })).toBeVisible()
  await expectAccessible(page, 'documents (empty)')
  await page.getByRole('link', { name: 'Chat' }).first().click()
  await expect(page.getByRole('heading', { name: 'Nothing to ask yet' })).toBeVisible()
  await expectAccessible(page, 'chat (no documents)')

  // Loading and error states of the library.
  const release = await holdRequests(page, DOCUMENTS_LIST)
  await page.goto('/documents')
  await expect(page.getByRole('status', { name: 'Loading documents' })).toBeVisible()
  await expectAccessible(page, 'documents (loading)')
  await release()
  await page.route(DOCUMENTS_LIST, (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ error: 'unavailable', detail: 'The service is temporarily unavailable.' }),
    }),
  )
  await page.reload()
  await expect(page.getByRole('alert')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible()
  await expectAccessible(page, 'documents (error)')
  await page.unroute(DOCUMENTS_LIST)

  // A ready document.
  await page.goto('/documents')
  const file = markdownFile()
  const name = path.basename(file)
  await upload(page, [file])
  await waitReady(page, name)
  await expectAccessible(page, 'documents (ready, with uploads)')
  await page.getByRole('button', { name: 'Clear finished' }).click()
  await setTheme(page, 'dark')
  await shot(page, 'dark-documents')
  await expectAccessible(page, 'documents (ready)')

  // Delete confirmation (cancelled).
  await row(page, name).getByRole('checkbox').check()
  await page.getByRole('button', { name: /^Delete 1$/ }).click()
  await expect(page.getByRole('alertdialog')).toBeVisible()
  await expectAccessible(page, 'delete confirmation')
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click()
  await row(page, name).getByRole('checkbox').uncheck()

  // Document detail.
  await row(page, name).getByRole('link').click()
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Passages' })).toBeVisible()
  await expect(page.getByText('Lamp maintenance').first()).toBeVisible()
  await expectAccessible(page, 'document detail')

  // Chat: welcome, then an answer with citations, then the source viewer.
  await page.getByRole('link', { name: 'Chat' }).first().click()
  await expect(page.getByRole('heading', { name: 'What would you like to know?' })).toBeVisible()
  await expectAccessible(page, 'chat (welcome)')
  const answer = await ask(page, 'How often is the fog horn sounded?')
  await expect(answer.getByTestId('citation-chip').first()).toBeVisible()
  await expectAccessible(page, 'chat (answer)')
  await page.getByRole('button', { name: 'Search scope: Everything I can read' }).click()
  await expect(page.getByRole('group', { name: 'Documents to search' })).toBeVisible()
  await expectAccessible(page, 'chat (scope selector)')
  await page.keyboard.press('Escape')
  await answer.getByTestId('citation-chip').first().click()
  const viewer = page.getByTestId('source-viewer')
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expectAccessible(page, 'chat (source viewer)')
  await viewer.getByRole('button', { name: 'Close source viewer' }).click()

  // Account, and the account and theme menus.
  await page.getByRole('button', { name: 'Account menu' }).click()
  await expect(page.getByRole('menuitem', { name: /Account & API keys/ })).toBeVisible()
  await expectAccessible(page, 'account menu', ['light'])
  await page.getByRole('menuitem', { name: /Account & API keys/ }).click()
  await expect(page.getByRole('heading', { name: 'Account', exact: true })).toBeVisible()
  await expectAccessible(page, 'account')
  await page.getByRole('button', { name: /^Theme:/ }).click()
  await expect(page.getByRole('menuitemradio', { name: 'Dark' })).toBeVisible()
  await expectAccessible(page, 'theme menu', ['dark'])
  await page.keyboard.press('Escape')

  // Not found.
  await page.goto('/no-such-page')
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible()
  await expectAccessible(page, 'not found')
})

test('the admin pages are accessible', async ({ page }) => {
  const email = process.env.E2E_ADMIN_EMAIL
  const password = process.env.E2E_ADMIN_PASSWORD
  test.skip(!email || !password, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  await signIn(page, email!, password!)
  await page.getByRole('link', { name: 'Admin' }).click()
  await expect(page.getByRole('table', { name: 'Users' }).getByText(email!)).toBeVisible()
  await expectAccessible(page, 'admin users')
  await page.getByRole('tab', { name: 'Stats' }).click()
  await expect(page.getByText('Documents', { exact: true }).first()).toBeVisible()
  await expectAccessible(page, 'admin stats')
  await page.getByRole('tab', { name: 'Jobs' }).click()
  await expect(page.getByRole('tabpanel', { name: 'Jobs' })).not.toBeEmpty()
  await expectAccessible(page, 'admin jobs')
  await page.getByRole('tab', { name: 'Settings' }).click()
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeVisible()
  await expectAccessible(page, 'admin settings')
  await page.getByRole('tab', { name: 'Audit log' }).click()
  await expect(page.getByRole('table', { name: 'Audit log' })).toBeVisible()
  await expectAccessible(page, 'admin audit log')
})
