// Browser tests for the template pages: a real Chromium (Debian's) driven by playwright-core
// against the real binary. They check what only a browser can: Turbo and Stimulus load
// through the import map under the Content-Security-Policy without a single console error,
// and the form round trip works the way a person uses it.
//
// SHEETD_BIN names the binary (default build/sheetd); each run gets a fresh data directory.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import { startSheetd } from "./support/sheetd_server.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.resolve(root, process.env.SHEETD_BIN || "build/sheetd")

let server
let baseUrl
let context
let dataDir
let profileDir

function startServer() {
  const env = { ...process.env, SHEETD_DATA_DIR: dataDir, SHEETD_ROOT: root, SHEETD_LOG_LEVEL: "warn" }
  return startSheetd(bin, [], { cwd: root, env })
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "sheetd-browser-data-"))
  profileDir = mkdtempSync(path.join(tmpdir(), "sheetd-browser-profile-"))
  const started = await startServer()
  server = started.child
  baseUrl = started.url
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  })
})

after(async () => {
  await context?.close()
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve))
    server.kill("SIGINT")
    await exited
  }
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(profileDir, { recursive: true, force: true })
})

// A page that records every console error, uncaught exception and failed request.
async function openPage() {
  const page = await context.newPage()
  const problems = []
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`) })
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`))
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`))
  return { page, problems }
}

async function fillDefinition(page, text) {
  await page.locator("textarea#definition").fill(text)
}

test("the list loads Turbo and Stimulus with no console errors", async () => {
  const { page, problems } = await openPage()
  const response = await page.goto(`${baseUrl}/import_templates`)
  assert.equal(response.status(), 200)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  assert.equal(await page.locator("h1").textContent(), "Import templates")
  assert.equal(await page.evaluate(() => Boolean(window.Turbo.session.drive)), true)
  await page.close()
  assert.deepEqual(problems, [])
})

test("a template created through the form is shown and listed", async () => {
  const { page, problems } = await openPage()
  await page.goto(`${baseUrl}/import_templates`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  await page.getByRole("link", { name: "New template", exact: true }).first().click()
  await page.waitForURL(/\/import_templates\/new$/)
  const definition = JSON.stringify({
    name: "Browser Orders",
    table: "browser_orders",
    columns: [
      { key: "order_no", header: "Order No", type: "integer", required: true, unique: true },
      { key: "country", header: "Country", type: "enum", values: ["Germany", "France"] },
    ],
  })
  await fillDefinition(page, definition)
  // the Stimulus controller pretty-prints the box
  await page.getByRole("button", { name: "Format JSON" }).click()
  const formatted = await page.locator("textarea#definition").inputValue()
  assert.equal(formatted, JSON.stringify(JSON.parse(definition), null, 2) + "\n")
  await page.getByRole("button", { name: "Create template" }).click()
  await page.waitForURL(/\/import_templates\/\d+$/)
  assert.equal(await page.locator("h1").textContent(), "Browser Orders")
  const rules = await page.locator("#columns tbody tr").first().locator("td").nth(3).textContent()
  assert.equal(rules.trim(), "required, unique")

  await page.getByRole("link", { name: "Templates", exact: true }).first().click()
  await page.waitForURL(/\/import_templates$/)
  const row = page.locator("#templates tbody tr", { hasText: "Browser Orders" })
  assert.equal(await row.count(), 1)
  assert.equal((await row.locator("td.num").textContent()).trim(), "2")
  await page.close()
  assert.deepEqual(problems, [])
})

test("a broken template shows every problem and is not created", async () => {
  const { page, problems } = await openPage()
  await page.goto(`${baseUrl}/import_templates/new`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  await fillDefinition(page, '{"name": "", "table": "9 bad", "columns": [{"key": "a", "header": "A", "type": "money"}]}')
  await page.getByRole("button", { name: "Create template" }).click()
  await page.locator("#problems").waitFor()
  const items = await page.locator("#problems li").allTextContents()
  assert.ok(items.length >= 3, `expected every problem, got ${JSON.stringify(items)}`)
  assert.ok(items.some((t) => t.includes("money")), JSON.stringify(items))
  // what was typed is still in the box
  assert.match(await page.locator("textarea#definition").inputValue(), /9 bad/)

  await page.goto(`${baseUrl}/import_templates`)
  assert.equal(await page.locator("#templates tbody tr", { hasText: "9 bad" }).count(), 0)
  await page.close()
  // Chromium reports the 422 answer itself as a failed resource load; nothing else may appear.
  assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), [])
})
