import { expect, test } from '@playwright/test'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ask, newUser, upload, waitReady } from './helpers'

test('a second user sees none of the first user’s documents or conversations', async ({ browser }) => {
  const a = await newUser(browser, 'iso-a')
  const file = path.join(os.tmpdir(), `private-notes-${Date.now()}.txt`)
  writeFileSync(file, 'The secret project codename is BLUE HERON. It launches in the third quarter.\n')
  await upload(a.page, [file])
  const name = path.basename(file)
  await waitReady(a.page, name)
  await ask(a.page, 'What is the secret project codename?')
  const list = await a.page.request.get('/api/v1/documents')
  const aDoc = ((await list.json()) as { items: { id: string }[] }).items[0]!
  const aConvs = ((await (await a.page.request.get('/api/v1/conversations')).json()) as { items: { id: string }[] }).items
  expect(aConvs.length).toBeGreaterThan(0)

  const b = await newUser(browser, 'iso-b')
  await expect(b.page.getByRole('heading', { name: 'Upload your first document' })).toBeVisible()
  await expect(b.page.getByText(name)).toHaveCount(0)
  await b.page.getByRole('link', { name: 'Chat' }).first().click()
  await expect(b.page.getByText('No conversations yet.').first()).toBeVisible()

  // Direct access to A's objects is a 404 for B, in the API and in the app.
  expect((await b.page.request.get(`/api/v1/documents/${aDoc.id}`)).status()).toBe(404)
  expect((await b.page.request.get(`/api/v1/documents/${aDoc.id}/file`)).status()).toBe(404)
  expect((await b.page.request.get(`/api/v1/conversations/${aConvs[0]!.id}`)).status()).toBe(404)
  await b.page.goto(`/chat/${aConvs[0]!.id}`)
  await expect(b.page.getByRole('alert')).toBeVisible()
  await expect(b.page.getByText('BLUE HERON')).toHaveCount(0)

  await a.context.close()
  await b.context.close()
})

test('a non-admin cannot reach /admin', async ({ browser }) => {
  const u = await newUser(browser, 'nonadmin')
  await expect(u.page.getByRole('link', { name: 'Admin' })).toHaveCount(0)
  await u.page.goto('/admin')
  await expect(u.page.getByRole('heading', { name: 'Administrators only' })).toBeVisible()
  expect((await u.page.request.get('/api/v1/admin/stats')).status()).toBe(403)
  expect((await u.page.request.get('/api/v1/admin/users')).status()).toBe(403)
  await u.context.close()
})
