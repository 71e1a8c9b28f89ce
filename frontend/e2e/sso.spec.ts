import { expect, test, type Page } from '@playwright/test'
import { shot, signIn } from './helpers'

// scripts/e2e.sh starts a real OpenID provider (npm oidc-provider) on loopback and points the server
// at it; its accounts sso-alice (groups: eng → Citewise group "Engineering") and sso-carol
// (unverified email) share E2E_OIDC_PASSWORD.
const label = process.env.E2E_SSO_LABEL
const providerPassword = process.env.E2E_OIDC_PASSWORD
const adminEmail = process.env.E2E_ADMIN_EMAIL
const adminPassword = process.env.E2E_ADMIN_PASSWORD

function needed(): { label: string; password: string } {
  if (!label || !providerPassword) {
    throw new Error('E2E_SSO_LABEL / E2E_OIDC_PASSWORD are not set: run the end-to-end tests with scripts/e2e.sh')
  }
  return { label, password: providerPassword }
}

async function signInAtProvider(page: Page, login: string, password: string) {
  await expect(page.getByRole('heading', { name: 'Test provider sign-in' })).toBeVisible()
  await page.getByLabel('Username').fill(login)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

test('Sign in with the provider creates the account, maps its group and lands in the app', async ({ page, browser }) => {
  const { label, password } = needed()
  await page.goto('/login')
  await shot(page, 'sign-in-sso')
  await page.getByRole('link', { name: label }).click()
  await signInAtProvider(page, 'sso-alice', password)

  await expect(page).toHaveURL(/\/documents$/)
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible()
  const me = await (await page.request.get('/api/v1/auth/me')).json()
  expect(me.email).toBe('sso-alice@example.com')
  expect(me.display_name).toBe('Alice SSO')

  // The provider's "eng" group made her a member of the Citewise group "Engineering" (Admin → Groups).
  if (!adminEmail || !adminPassword) throw new Error('E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD are not set')
  const admin = await browser.newContext()
  try {
    const adminPage = await admin.newPage()
    await signIn(adminPage, adminEmail, adminPassword)
    await adminPage.goto('/admin?tab=groups')
    await adminPage.getByRole('button', { name: 'Members of Engineering' }).click()
    await expect(adminPage.getByRole('list', { name: 'Group members' }).getByText('sso-alice@example.com')).toBeVisible()
  } finally {
    await admin.close()
  }
})

test('a refused single sign-on explains itself on the sign-in page', async ({ page }) => {
  const { label, password } = needed()
  await page.goto('/login')
  await page.getByRole('link', { name: label }).click()
  await signInAtProvider(page, 'sso-carol', password)
  await expect(page).toHaveURL(/\/login\?sso_error=sso_email_unverified/)
  await expect(page.getByRole('alert')).toHaveText('Your email address is not verified at the sign-in provider.')
})
