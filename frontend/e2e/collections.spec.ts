import { expect, test } from '@playwright/test'
import { newUser } from './helpers'

test('an owner creates a collection and shares it: the member sees it with their role', async ({ browser }) => {
  const owner = await newUser(browser, 'coll-owner')
  const member = await newUser(browser, 'coll-member')
  const outsider = await newUser(browser, 'coll-outsider')
  const name = `Team manual ${Date.now()}`
  try {
    const page = owner.page
    await page.getByRole('link', { name: 'Collections' }).click()
    await expect(page.getByRole('heading', { name: 'Collections', exact: true })).toBeVisible()
    await page.getByRole('button', { name: 'New collection' }).click()
    await page.getByLabel('Name').fill(name)
    await page.getByRole('button', { name: 'Create', exact: true }).click()
    const card = page.getByRole('list', { name: 'Collections' }).getByRole('listitem').filter({ hasText: name })
    await expect(card.getByText('owner')).toBeVisible()

    await card.getByRole('button', { name: `Members of ${name}` }).click()
    await page.getByLabel('Add a person by email').fill(member.email)
    await page.getByLabel('Role', { exact: true }).selectOption('viewer')
    await page.getByRole('button', { name: 'Add member' }).click()
    const members = page.getByRole('list', { name: 'Members' })
    await expect(members.getByText(member.email)).toBeVisible()
    // Role picker: promote to editor.
    await members.getByLabel(`Role of ${member.email}`).selectOption('editor')
    await expect(members.getByLabel(`Role of ${member.email}`)).toHaveValue('editor')
    await page.keyboard.press('Escape')

    await member.page.goto('/collections')
    const shared = member.page.getByRole('list', { name: 'Collections' }).getByRole('listitem').filter({ hasText: name })
    await expect(shared.getByText('editor')).toBeVisible()

    await outsider.page.goto('/collections')
    await expect(outsider.page.getByText('No collections yet')).toBeVisible()
    await expect(outsider.page.getByText(name)).toHaveCount(0)
  } finally {
    await Promise.all([owner.context.close(), member.context.close(), outsider.context.close()])
  }
})
