import { expect, type Browser, type Page } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** Repository root (frontend/e2e → ../..). */
export const REPO = path.resolve(here, '..', '..')
/**
 * The documents the specs upload are generated for each run (backend/tests/docgen.py) by
 * scripts/e2e.sh, which names their folder in E2E_DOCS.
 */
export function testDocument(name: string): string {
  const folder = process.env.E2E_DOCS
  if (!folder) throw new Error('E2E_DOCS is not set: run the end-to-end tests with scripts/e2e.sh (make test-e2e)')
  const file = path.join(folder, name)
  if (!existsSync(file)) throw new Error(`${file} was not generated (see backend/tests/docgen.py e2e_documents)`)
  return file
}

/**
 * Screenshots go to test-results/screenshots (ignored by git). The documentation's pictures in
 * docs/screenshots are refreshed only on request: E2E_SCREENSHOTS=docs (make screenshots).
 */
export const SHOTS =
  process.env.E2E_SCREENSHOTS === 'docs'
    ? path.resolve(REPO, 'docs', 'screenshots')
    : path.resolve(REPO, 'frontend', 'test-results', 'screenshots')

export const PASSWORD = 'correct horse battery 42'

export function uniqueEmail(tag: string): string {
  return `e2e-${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}

export async function registerViaUi(page: Page, email: string, name = 'E2E User'): Promise<void> {
  await page.goto('/register')
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page).toHaveURL(/\/documents$/)
  await expect(page.getByRole('heading', { name: 'Documents', exact: true })).toBeVisible()
}

export async function newUser(browser: Browser, tag: string) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const email = uniqueEmail(tag)
  await registerViaUi(page, email)
  return { context, page, email }
}

export async function upload(page: Page, files: string[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files)
}

export function row(page: Page, filename: string) {
  return page.getByTestId('document-row').filter({ hasText: filename })
}

export async function waitReady(page: Page, filename: string, timeout = 180_000): Promise<void> {
  await expect(row(page, filename)).toHaveAttribute('data-status', 'ready', { timeout })
}

/** Asks a question on /chat and waits for the finished, stored answer. */
export async function ask(page: Page, question: string) {
  await page.getByRole('link', { name: 'Chat' }).first().click()
  await page.getByLabel('Ask a question').fill(question)
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('user-message').last()).toContainText(question)
  const answer = page.getByTestId('assistant-message').last()
  await expect(answer).toHaveAttribute('data-status', 'complete', { timeout: 120_000 })
  return answer
}

/** WCAG 2.0/2.1 level A and AA rules: what "axe finds no serious issues" is measured against. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']

/** Follows the system colour scheme (the app's default "System" theme) and waits for it to apply. */
export async function setTheme(page: Page, scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme })
  if (scheme === 'dark') await expect(page.locator('html')).toHaveClass(/\bdark\b/)
  else await expect(page.locator('html')).not.toHaveClass(/\bdark\b/)
}

/**
 * Runs axe on the page as it is in the light and the dark theme and fails on any serious or
 * critical WCAG A/AA violation, listing each rule with the elements it flagged.
 */
export async function expectAccessible(page: Page, screen: string, schemes: ('light' | 'dark')[] = ['light', 'dark']) {
  // Colours are measured at rest: no half-finished hover/theme transitions or shimmering skeletons.
  await page.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' })
  const found: string[] = []
  for (const scheme of schemes) {
    await setTheme(page, scheme)
    const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze()
    for (const v of violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue
      const targets = v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.split('\n').slice(1).join(' ').trim()})` : ''}`)
      found.push(`[${scheme}] ${v.id} (${v.impact}): ${v.help}\n    ${targets.join('\n    ')}`)
    }
  }
  expect.soft(found, `axe: serious/critical violations on ${screen}:\n${found.join('\n')}`).toEqual([])
}

/** The page does not scroll sideways (nothing sticks out past a phone's width). */
export async function expectNoHorizontalOverflow(page: Page, screen: string): Promise<void> {
  const m = await page.evaluate(() => ({
    scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    inner: window.innerWidth,
    wide: Array.from(document.querySelectorAll('body *'))
      .filter((el) => {
        const r = el.getBoundingClientRect()
        return r.width > 0 && r.right > window.innerWidth + 1 && getComputedStyle(el).position !== 'fixed'
      })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${String(el.className).split(' ').slice(0, 3).join('.')}`),
  }))
  expect(m.scroll, `${screen}: scrollWidth ${m.scroll} > innerWidth ${m.inner}; wide: ${m.wide.join(', ')}`).toBeLessThanOrEqual(m.inner)
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/(documents|account)/)
}
