import { expect, test } from '@playwright/test'
import { shot, signIn } from './helpers'

// Needs an administrator account; scripts/e2e.sh can create one (citewise create-admin)
// and pass it as E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD.
const email = process.env.E2E_ADMIN_EMAIL
const password = process.env.E2E_ADMIN_PASSWORD

test('an admin sees users, stats, jobs, settings and the audit log', async ({ page }) => {
  test.skip(!email || !password, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  await signIn(page, email!, password!)
  await page.getByRole('link', { name: 'Admin' }).click()
  await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible()
  await expect(page.getByRole('table', { name: 'Users' }).getByText(email!)).toBeVisible()
  await shot(page, 'admin-users')
  await page.getByRole('tab', { name: 'Stats' }).click()
  await expect(page.getByText('Documents', { exact: true }).first()).toBeVisible()
  await shot(page, 'admin')
  await page.getByRole('tab', { name: 'Settings' }).click()
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeVisible()
  await shot(page, 'admin-settings')
  await page.getByRole('tab', { name: 'Jobs' }).click()
  await page.getByRole('tab', { name: 'Audit log' }).click()
  await expect(page.getByRole('table', { name: 'Audit log' })).toBeVisible()
})
