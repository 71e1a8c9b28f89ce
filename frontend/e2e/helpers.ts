import { expect, type Browser, type Page } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** Repository root (frontend/e2e → ../..). */
export const REPO = path.resolve(here, '..', '..')
/** Evaluation documents live beside the repository: <repo>/../shared/eval/docs. */
export const DOCS = path.resolve(REPO, '..', 'shared', 'eval', 'docs')
export const SHOTS = path.resolve(REPO, 'docs', 'screenshots')

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
