// End-to-end browser tests of imports as a person does them: Debian's Chromium, driven by
// playwright-core, against the real binary. A file chosen on a template's page becomes a job;
// the job page follows it live over the stream (or, without EventSource, by polling) to its
// end without a reload; row errors show in a table and the error report downloads; a running
// import can be cancelled and writes nothing; two tabs and the dashboard follow the same
// jobs. The tests save the screenshots the README shows (docs/screenshots/).
//
// Determinism: the server runs with --no-workers and the jobs run in a separate
// `sheetd work` process that a test starts once the page has landed on a job that is still
// pending (so "updated without a reload" is always observed, never raced), and stops again
// at the end of the test. That also exercises the cross-process path: the worker's status
// changes reach the server's streams through the queue database.
//
// SHEETD_BIN names the binary (default build/sheetd); each run gets a fresh data directory
// and browser profile, both removed at the end, and every process started here is stopped.
import { test, before, after, afterEach } from "node:test"
import assert from "node:assert/strict"
import { spawn, execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import { startSheetd } from "./support/sheetd_server.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.resolve(root, process.env.SHEETD_BIN || "build/sheetd")
const shots = path.join(root, "docs/screenshots")
const WAIT = 20000 // the longest any single wait may take (ms)
const TEST_TIMEOUT = 60000 // and any one test

let server
let worker
let baseUrl
let context
let dataDir
let profileDir
const templates = {} // name → id

function env() {
  return {
    ...process.env, SHEETD_DATA_DIR: dataDir, SHEETD_ROOT: root, SHEETD_LOG_LEVEL: "warn",
    SHEETD_SHUTDOWN_TIMEOUT: "5",
  }
}

function cli(...args) {
  return execFileSync(bin, args, { cwd: root, env: env(), encoding: "utf8", timeout: 15000 })
}

function createTemplate(definition) {
  const file = path.join(dataDir, `${definition.table}.template.json`)
  writeFileSync(file, JSON.stringify(definition))
  const m = cli("template", "create", "--file", file).match(/created template (\d+)/)
  assert.ok(m, "sheetd template create names the new template")
  return Number(m[1])
}

function startServer() {
  return startSheetd(bin, ["--no-workers"], { cwd: root, env: env() })
}

// Stops a child process and waits for it (SIGKILL if it has not gone after 10 s).
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once("exit", resolve))
  child.kill("SIGTERM")
  const timer = setTimeout(() => child.kill("SIGKILL"), 10000)
  await exited
  clearTimeout(timer)
}

// The jobs run only while a worker process is up.
function startWorker() {
  assert.equal(worker, undefined, "one worker at a time")
  worker = spawn(bin, ["work", "--threads", "1"], { cwd: root, env: env(), stdio: ["ignore", "ignore", "pipe"] })
  worker.stderr.on("data", () => {})
}

async function stopWorker() {
  await stop(worker)
  worker = undefined
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "sheetd-e2e-data-"))
  profileDir = mkdtempSync(path.join(tmpdir(), "sheetd-e2e-profile-"))
  mkdirSync(shots, { recursive: true })
  templates.customers = Number(
    cli("template", "create", "--file", "examples/customers.template.json").match(/created template (\d+)/)[1]
  )
  const columns = JSON.parse(readFileSync(path.join(root, "examples/customers.template.json"), "utf8")).columns
  templates.strict = createTemplate({ name: "Strict Customers", table: "strict_customers", mode: "all_or_nothing", columns })
  templates.cancel = createTemplate({ name: "Bulk Customers", table: "bulk_customers", mode: "partial", columns })
  const started = await startServer()
  server = started.child
  baseUrl = started.url
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 30000,
    viewport: { width: 1100, height: 800 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  })
  context.setDefaultTimeout(WAIT)
})

afterEach(async () => {
  await stopWorker()
})

after(async () => {
  await context?.close()
  await stopWorker()
  await stop(server)
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(profileDir, { recursive: true, force: true })
})

// A CSV for the customers columns: `rows` valid rows starting at id `first`, and the row
// numbers (1-based data rows) listed in `badEmails` get an invalid email.
function customersCsv(name, rows, { first = 1, badEmails = [] } = {}) {
  const bad = new Set(badEmails)
  const lines = ["ID,Name,Email,Country,Signup Date,Amount,Active,Quantity,Notes,Code"]
  for (let i = 0; i < rows; i++) {
    const id = first + i
    const email = bad.has(i + 1) ? `broken-${id}.example.com` : `person${id}@example.com`
    lines.push(`${id},Person ${id},${email},Germany,2024-01-0${(i % 9) + 1},${id % 1000}.25,TRUE,${i % 100},note ${id},C-${String(id % 1000000).padStart(6, "0")}-AA`)
  }
  const file = path.join(dataDir, name)
  writeFileSync(file, lines.join("\n") + "\n")
  return file
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Runs the worker at a tenth of its pace (stopped 45 ms in every 50) until `until` settles.
async function slowWorkerUntil(until) {
  let settled = false
  const result = until.finally(() => { settled = true })
  while (!settled) {
    worker.kill("SIGSTOP")
    await sleep(45)
    worker.kill("SIGCONT")
    await sleep(5)
  }
  return result
}

// Stops the worker at an instant it holds no write lock on queue.db (a status write), so
// that the server's cancel, which writes there, is never kept waiting on a frozen process.
async function pauseWorkerOutsideQueueWrites() {
  const queueDb = path.join(dataDir, "queue.db")
  for (let i = 0; i < 100; i++) {
    worker.kill("SIGSTOP")
    try {
      execFileSync("sqlite3", [queueDb, "BEGIN IMMEDIATE; ROLLBACK;"], { stdio: "ignore", timeout: 10000 })
      return
    } catch {
      worker.kill("SIGCONT")
      await sleep(10)
    }
  }
  throw new Error("the worker held queue.db's write lock at every try")
}

// A page that records console errors, uncaught exceptions and full page loads.
async function openPage({ withoutEventSource = false } = {}) {
  const page = await context.newPage()
  if (withoutEventSource) await page.addInitScript(() => { delete window.EventSource })
  const problems = []
  const loads = { count: 0 }
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`) })
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`))
  page.on("load", () => { loads.count++ })
  return { page, problems, loads }
}

// Chooses `file` on the template's page and submits it; resolves on the job page, with the
// job's id. Marks the window once landed, so a later reload would show (the mark is gone).
async function upload(page, templateId, file) {
  await page.goto(`${baseUrl}/import_templates/${templateId}`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  await page.locator("#upload_file").setInputFiles(file)
  await page.getByRole("button", { name: "Upload and import" }).click()
  await page.waitForURL(new RegExp(`/import_templates/${templateId}/jobs/[0-9a-f]{16}$`), { timeout: WAIT })
  const jobId = page.url().split("/").pop()
  await page.locator(`#job_status_${jobId}`).waitFor()
  await page.evaluate(() => { window.__landed = true })
  return jobId
}

const statusOf = (page, jobId) => page.locator(`#job_status_${jobId}`).getAttribute("data-status")

function waitForStatus(page, jobId, status, timeout = WAIT) {
  return page.waitForFunction(
    ([id, s]) => document.getElementById(`job_status_${id}`)?.dataset.status === s,
    [jobId, status], { timeout }
  )
}

function waitForLive(page, selector, state) {
  return page.waitForFunction(([sel, s]) => document.querySelector(sel)?.dataset.state === s, [selector, state])
}

function sql(query) {
  return execFileSync("sqlite3", [path.join(dataDir, "sheetd.db"), query], { encoding: "utf8", timeout: 10000 }).trim()
}

function jobDoc(jobId) {
  return JSON.parse(cli("jobs", "show", jobId, "--json"))
}

test("an upload lands on the job page, which reaches completed live, without a reload", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems, loads } = await openPage()
  await page.goto(`${baseUrl}/import_templates/${templates.customers}`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  await page.screenshot({ path: path.join(shots, "template-page.png"), fullPage: true })

  const file = customersCsv("good.csv", 3000, { first: 1000 })
  const jobId = await upload(page, templates.customers, file)
  assert.equal(await statusOf(page, jobId), "pending")
  await waitForLive(page, "#job_live", "live")
  // said once (the message), not twice
  const pending = await page.locator(`#job_status_${jobId}`).textContent()
  assert.equal(pending.match(/Waiting for a worker/g)?.length, 1, pending)
  const loadsBefore = loads.count

  startWorker()
  await waitForStatus(page, jobId, "completed")
  assert.equal(await page.evaluate(() => window.__landed), true, "the page was not reloaded")
  assert.equal(loads.count, loadsBefore, "no page load after landing")
  assert.equal((await page.locator(`#job_imported_${jobId}`).textContent()).trim(), "3,000")
  assert.equal((await page.locator(`#job_failed_${jobId}`).textContent()).trim(), "0")
  await waitForLive(page, "#job_live", "done")
  assert.equal(await page.locator("#job_live [data-live-text]").textContent(), "Finished")
  assert.equal(await page.locator(`#job_errors_${jobId}`).count(), 0)
  assert.equal(sql("SELECT count(*) FROM customers"), "3000")
  await page.screenshot({ path: path.join(shots, "job-completed.png"), fullPage: true })
  await page.close()
  assert.deepEqual(problems, [])
})

test("the sample workbook's bad rows show in the error table and the error report downloads", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems } = await openPage()
  await page.goto(`${baseUrl}/import_templates/${templates.customers}`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  const [sampleDownload] = await Promise.all([page.waitForEvent("download"), page.locator("#sample_link").click()])
  const sample = path.join(dataDir, "sample.xlsx")
  await sampleDownload.saveAs(sample)
  const [blankDownload] = await Promise.all([page.waitForEvent("download"), page.locator("#blank_link").click()])
  const blank = path.join(dataDir, "blank.xlsx")
  await blankDownload.saveAs(blank)
  assert.equal(cli("read", blank, "--format", "csv").trim(), "ID,Name,Email,Country,Signup Date,Amount,Active,Quantity,Notes,Code")

  startWorker()
  const jobId = await upload(page, templates.customers, sample)
  await waitForStatus(page, jobId, "completed")
  assert.equal((await page.locator(`#job_imported_${jobId}`).textContent()).trim(), "5")
  assert.equal((await page.locator(`#job_failed_${jobId}`).textContent()).trim(), "3")
  const rows = await page.locator(`#job_errors_${jobId} tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()))
  )
  assert.equal(rows.length, 3, JSON.stringify(rows))
  // row, column, value, message; row numbers are the sheet's own (header = row 1)
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [
    ["7", "Email", "not-an-email"],
    ["8", "ID", "0"],
    ["9", "Name", "(empty)"],
  ])
  for (const r of rows) assert.ok(r[3].length > 5, `a message for row ${r[0]}`)

  const [report] = await Promise.all([page.waitForEvent("download"), page.locator(`#job_report_${jobId}`).click()])
  const reportFile = path.join(dataDir, "report.xlsx")
  await report.saveAs(reportFile)
  assert.equal(report.suggestedFilename().endsWith(".xlsx"), true, report.suggestedFilename())
  const cells = cli("read", reportFile, "--format", "csv")
  assert.match(cells, /not-an-email/)
  assert.equal(cells.trim().split("\n").length, 4, `a header and the three bad rows:\n${cells}`)
  assert.equal(await page.evaluate(() => window.__landed), true)
  await page.close()
  assert.deepEqual(problems, [])
})

test("an all-or-nothing import with bad rows fails, lists them and writes nothing", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems } = await openPage()
  const file = customersCsv("strict.csv", 40, { first: 500, badEmails: [3, 17] })
  const jobId = await upload(page, templates.strict, file)
  startWorker()
  await waitForStatus(page, jobId, "failed")
  const rows = await page.locator(`#job_errors_${jobId} tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent.trim()))
  )
  assert.deepEqual(rows, [["4", "Email", "broken-502.example.com"], ["18", "Email", "broken-516.example.com"]])
  assert.equal(await page.locator(`#job_retry_${jobId}`).count(), 1)
  assert.equal(await page.locator(`#job_report_${jobId}`).count(), 1)
  const response = await page.request.get(`${baseUrl}/jobs/${jobId}/errors.xlsx`)
  assert.equal(response.status(), 200)
  assert.equal((await response.body()).subarray(0, 2).toString(), "PK")
  assert.equal(sql("SELECT count(*) FROM strict_customers"), "0")
  await page.screenshot({ path: path.join(shots, "job-failed.png"), fullPage: true })
  await page.close()
  assert.deepEqual(problems, [])
})

test("without EventSource the job page says Polling and still reaches completed", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems, loads } = await openPage({ withoutEventSource: true })
  const file = customersCsv("polling.csv", 200, { first: 10000 })
  const jobId = await upload(page, templates.customers, file)
  assert.equal(await page.evaluate(() => typeof window.EventSource), "undefined")
  await waitForLive(page, "#job_live", "polling")
  assert.equal(await page.locator("#job_live [data-live-text]").textContent(), "Polling")
  assert.equal(await page.locator("turbo-stream-source").count(), 0)
  assert.match(await page.locator(`#job_status_${jobId}`).textContent(), /Next in the queue/)
  const loadsBefore = loads.count
  startWorker()
  await waitForStatus(page, jobId, "completed")
  assert.equal((await page.locator(`#job_imported_${jobId}`).textContent()).trim(), "200")
  await waitForLive(page, "#job_live", "done")
  assert.equal(await page.evaluate(() => window.__landed), true)
  assert.equal(loads.count, loadsBefore)
  await page.close()
  assert.deepEqual(problems, [])
})

test("two tabs on one job both follow it to completed", { timeout: TEST_TIMEOUT }, async () => {
  const first = await openPage()
  const file = customersCsv("two-tabs.csv", 20000, { first: 20000 })
  const jobId = await upload(first.page, templates.customers, file)
  const second = await openPage()
  await second.page.goto(first.page.url())
  await second.page.evaluate(() => { window.__landed = true })
  for (const { page } of [first, second]) {
    assert.equal(await statusOf(page, jobId), "pending")
    await waitForLive(page, "#job_live", "live")
  }
  startWorker()
  await Promise.all([first, second].map(({ page }) => waitForStatus(page, jobId, "completed")))
  for (const { page, problems } of [first, second]) {
    assert.equal((await page.locator(`#job_imported_${jobId}`).textContent()).trim(), "20,000")
    assert.equal(await page.evaluate(() => window.__landed), true)
    await page.close()
    assert.deepEqual(problems, [])
  }
})

test("a running import can be cancelled and writes nothing", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems } = await openPage()
  const file = customersCsv("bulk.csv", 400000)
  const jobId = await upload(page, templates.cancel, file)
  startWorker()
  await waitForStatus(page, jobId, "processing")
  // Some progress, and a rate (shown once the job has run for a second). An import this size
  // would end within that second on a fast machine, so the worker runs at a tenth of its pace
  // meanwhile, and is then paused (SIGSTOP) for the screenshot and the click and resumed once
  // the cancel has been answered: the cancel always lands mid-import.
  await slowWorkerUntil(page.waitForFunction((id) => {
    const el = document.getElementById(`job_status_${id}`)
    const bar = document.getElementById(`job_progress_${id}`)
    return Number(bar?.value) >= 5 && [...(el?.querySelectorAll("dt") || [])].some((dt) => dt.textContent === "Rate")
  }, jobId))
  await pauseWorkerOutsideQueueWrites()
  try {
    await page.screenshot({ path: path.join(shots, "job-running.png"), fullPage: true })
    const answered = page.waitForResponse((r) => r.url().endsWith(`/jobs/${jobId}/cancel`), { timeout: 8000 })
    await page.locator(`#job_cancel_${jobId}`).click()
    assert.ok((await answered).status() < 400, "the cancel was taken")
  } finally {
    worker.kill("SIGCONT")
  }
  await waitForStatus(page, jobId, "cancelled")
  assert.equal(await page.locator(`#job_cancel_${jobId}`).count(), 0)
  const doc = jobDoc(jobId)
  assert.equal(doc.status, "cancelled")
  const exists = sql("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='bulk_customers'")
  if (exists === "1") assert.equal(sql("SELECT count(*) FROM bulk_customers"), "0")
  await page.close()
  assert.deepEqual(problems, [])
})

test("the dashboard shows a new job and its end live, without a reload", { timeout: TEST_TIMEOUT }, async () => {
  const dash = await openPage()
  await dash.page.goto(`${baseUrl}/jobs`)
  await dash.page.waitForFunction(() => window.Turbo && window.Stimulus)
  await waitForLive(dash.page, "#jobs_live", "live")
  await dash.page.evaluate(() => { window.__landed = true })
  const count = async (state) =>
    Number((await dash.page.locator(`#job_counts li.job-counts--${state} .job-counts__n`).textContent()).replace(/,/g, ""))
  const completedBefore = await count("completed")

  const other = await openPage()
  const file = customersCsv("dashboard.csv", 50, { first: 60000 })
  const jobId = await upload(other.page, templates.customers, file)
  await dash.page.waitForFunction((id) => document.getElementById(`job_row_${id}`)?.dataset.status === "pending", jobId)
  await dash.page.waitForFunction(() =>
    document.querySelector("#job_counts li.job-counts--pending .job-counts__n")?.textContent.trim() === "1")
  startWorker()
  await dash.page.waitForFunction((id) => document.getElementById(`job_row_${id}`)?.dataset.status === "completed", jobId)
  await dash.page.waitForFunction((n) =>
    Number(document.querySelector("#job_counts li.job-counts--completed .job-counts__n")?.textContent.replace(/,/g, "")) === n,
  completedBefore + 1)
  assert.equal(await count("pending"), 0)
  assert.match(await dash.page.locator(`#job_row_${jobId}`).textContent(), /50 imported/)
  assert.equal(await dash.page.evaluate(() => window.__landed), true, "the dashboard was not reloaded")
  await dash.page.screenshot({ path: path.join(shots, "dashboard.png"), fullPage: true })
  for (const { page, problems } of [dash, other]) {
    await page.close()
    assert.deepEqual(problems, [])
  }
})

test("Export to XLSX runs as a job whose page offers the file", { timeout: TEST_TIMEOUT }, async () => {
  const { page, problems, loads } = await openPage()
  await page.goto(`${baseUrl}/import_templates/${templates.strict}`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  // a table with three rows to export
  const file = customersCsv("to-export.csv", 3, { first: 900 })
  await upload(page, templates.strict, file)
  startWorker()
  await page.waitForFunction(() => document.querySelector("[data-status]")?.dataset.status === "completed")
  await stopWorker()

  await page.goto(`${baseUrl}/import_templates/${templates.strict}`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  await page.locator("#export_button").click()
  await page.waitForURL(new RegExp(`/import_templates/${templates.strict}/jobs/[0-9a-f]{16}$`))
  const jobId = page.url().split("/").pop()
  await page.locator(`#job_status_${jobId}`).waitFor()
  assert.equal(await statusOf(page, jobId), "pending")
  await page.evaluate(() => { window.__landed = true })
  const loadsBefore = loads.count
  startWorker()
  await waitForStatus(page, jobId, "completed")
  assert.equal(await page.evaluate(() => window.__landed), true)
  assert.equal(loads.count, loadsBefore)
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator(`#job_download_${jobId}`).click()])
  const out = path.join(dataDir, "export.xlsx")
  await download.saveAs(out)
  const csv = cli("read", out, "--format", "csv").trim().split("\n")
  assert.equal(csv.length, 4, csv.join("\n"))
  assert.match(csv[1], /person900@example\.com/)
  await page.close()
  assert.deepEqual(problems, [])
})
