import { expect, test, type Request } from '@playwright/test'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ask, newUser, upload, waitReady } from './helpers'

test('hostile Markdown renders inertly as an answer and as a source', async ({ browser }) => {
  const u = await newUser(browser, 'xss')
  const dialogs: string[] = []
  const hostile: string[] = []
  u.page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  const onRequest = (r: Request) => {
    if (r.url().includes('example.invalid')) hostile.push(r.url())
  }
  u.page.on('request', onRequest)
  u.context.on('request', onRequest)

  const file = path.join(os.tmpdir(), `hostile-${Date.now()}.md`)
  writeFileSync(
    file,
    [
      '# Quartz pigeon handbook',
      '',
      'The quartz pigeon nests only on basalt cliffs. <script>alert(1)</script>',
      '',
      '![x](http://example.invalid/x.png)',
      '',
      'Quartz pigeons <img src="http://example.invalid/y.png" onerror="alert(2)"> eat lichen. [link](javascript:alert(3))',
      '',
    ].join('\n'),
  )
  await upload(u.page, [file])
  await waitReady(u.page, path.basename(file))

  const answer = await ask(u.page, 'Where does the quartz pigeon nest and what does it eat?')
  await expect(answer.locator('script')).toHaveCount(0)
  await expect(answer.locator('img')).toHaveCount(0)

  const chip = answer.getByTestId('citation-chip').first()
  await expect(chip).toBeVisible()
  await chip.click()
  const viewer = u.page.getByTestId('source-viewer')
  await expect(viewer.getByTestId('cited-passage')).toBeVisible()
  await expect(viewer.locator('script, img, iframe')).toHaveCount(0)
  await expect(u.page.locator('a[href^="javascript:"]')).toHaveCount(0)

  // Give any deferred loads a moment to fire before asserting nothing happened.
  await u.page.waitForTimeout(1500)
  expect(dialogs).toEqual([])
  expect(hostile).toEqual([])
  await u.context.close()
})
