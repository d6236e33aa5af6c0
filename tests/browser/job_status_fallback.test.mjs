// Browser tests for the job page's live updates, self-contained: a small Node HTTP server in
// this file plays the part of sheetd's job routes (the page, the SSE stream, the partial),
// rendering the REAL views (views/job_status/show and views/shared/_job_status, with a
// minimal mustache renderer below) and serving the REAL assets (application.js, the
// controllers, Turbo and Stimulus from node_modules) through an import map, under the same
// Content-Security-Policy sheetd sends. Debian's Chromium, driven by playwright-core, then
// checks what only a browser can: the page says "Live" while the stream works; with
// EventSource removed, or with a stream that fails, it says "Polling", polls the partial
// every 2 s until the job reaches a terminal state, and stops there; and no console error
// appears on the way.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import { createHash, randomBytes } from "node:crypto"
import { readFileSync, readdirSync } from "node:fs"
import http from "node:http"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const JOB = "3f9a0c1d2e4b5a69"
const PAGE_TOKEN = "a".repeat(64)

// --- a minimal mustache: variables (escaped), sections, inverted sections, partials ----
const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => escapes[c])
const falsy = (v) => v === undefined || v === null || v === false || v === "" || v === 0 ||
  (Array.isArray(v) && v.length === 0)

function lookup(stack, name) {
  if (name === ".") return stack[stack.length - 1]
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i]
    if (ctx && typeof ctx === "object" && name in ctx) return ctx[name]
  }
  return undefined
}

function view(name) {
  return readFileSync(path.join(root, "views", `${name}.mustache`), "utf8")
}

function render(template, stack) {
  let out = ""
  let pos = 0
  const tag = /\{\{\{\s*([^}]*?)\s*\}\}\}|\{\{([#^/>!&]?)\s*([^}]*?)\s*\}\}/g
  for (;;) {
    tag.lastIndex = pos
    const m = tag.exec(template)
    if (!m) return out + template.slice(pos)
    out += template.slice(pos, m.index)
    pos = tag.lastIndex
    const [, raw, sigil, name] = m
    if (raw !== undefined || sigil === "&") {
      const value = lookup(stack, raw !== undefined ? raw : name)
      if (value !== undefined && value !== null) out += String(value)
      continue
    }
    if (sigil === "!") continue
    if (sigil === ">") {
      out += render(view(name), stack)
      continue
    }
    if (sigil === "#" || sigil === "^") {
      // find the matching close tag, counting nested sections of the same name
      let depth = 1
      const inner = new RegExp(`\\{\\{([#^/])\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*\\}\\}`, "g")
      inner.lastIndex = pos
      let close
      while ((close = inner.exec(template))) {
        depth += close[1] === "/" ? -1 : 1
        if (depth === 0) break
      }
      assert.ok(close, `unclosed section ${name}`)
      const body = template.slice(pos, close.index)
      pos = inner.lastIndex
      const value = lookup(stack, name)
      if (sigil === "^") {
        if (falsy(value)) out += render(body, stack)
      } else if (Array.isArray(value)) {
        for (const item of value) out += render(body, [...stack, item])
      } else if (!falsy(value)) {
        out += render(body, [...stack, value])
      }
      continue
    }
    const value = lookup(stack, name)
    if (value !== undefined && value !== null) out += escapeHtml(value)
  }
}

// --- the job's view data, as job_view_build makes it (src/web/job_view.h) --------------
// `token` is the request's CSRF token for a page; partials sent to many browsers have none.
function jobView(status, processed, total, token = "") {
  const terminal = ["completed", "failed", "cancelled"].includes(status)
  const percent = total ? Math.floor((processed * 100) / total) : 0
  const labels = { pending: "Queued", processing: "Processing", completed: "Completed", failed: "Failed", cancelled: "Cancelled" }
  return {
    job_id: JOB, kind: "import", kind_label: "Import", is_import: true, is_export: false,
    template_id: 1, template_name: "Customers", template_url: "/import_templates/1",
    job_url: `/import_templates/1/jobs/${JOB}`, status_url: `/jobs/${JOB}/status.json`,
    partial_url: `/jobs/${JOB}/partial`, stream_url: `/jobs/${JOB}/stream`,
    cancel_url: `/jobs/${JOB}/cancel`, retry_url: `/jobs/${JOB}/retry`,
    status, status_label: labels[status], message: terminal ? `Imported ${processed} rows` : "",
    is_pending: status === "pending", is_processing: status === "processing",
    is_completed: status === "completed", is_failed: status === "failed",
    is_cancelled: status === "cancelled", is_terminal: terminal,
    can_cancel: !terminal, can_retry: status === "failed" || status === "cancelled",
    has_progress: processed > 0, has_total: total > 0, processed_text: String(processed),
    total_text: String(total), percent, rate_text: "", elapsed_text: "",
    has_result: terminal, imported_text: String(processed), failed_text: "0", any_failed: false,
    errors: [], has_errors: false, has_downloads: false, has_csrf: true,
    csrf_field: "authenticity_token", csrf_token: token,
  }
}

// --- the dashboard's view data, as job_view_dashboard makes it --------------------------
function dashboardView(jobs) {
  const states = [["pending", "Queued"], ["processing", "Processing"], ["completed", "Completed"], ["failed", "Failed"], ["cancelled", "Cancelled"]]
  const counts = states.map(([state, label]) => ({
    state, label, url: `/jobs?status=${state}`, current: false,
    count_text: String(jobs.filter((j) => j.status === state).length),
  }))
  return {
    jobs, any_jobs: jobs.length > 0, counts, total_text: String(jobs.length),
    status_options: [{ value: "", label: "Every state", selected: true }, ...states.map(([value, label]) => ({ value, label, selected: false }))],
    template_options: [{ value: "", label: "Every template", selected: true }],
    page: 1, has_prev: false, has_next: false, filtered: false, clear_url: "/jobs",
    stream_url: "/jobs/stream", csrf_field: "authenticity_token", csrf_token: PAGE_TOKEN,
  }
}

// --- the fake sheetd --------------------------------------------------------------------
const controllers = readdirSync(path.join(root, "assets/controllers")).filter((f) => f.endsWith(".js"))
const importmap = JSON.stringify({
  imports: Object.fromEntries([
    ["@hotwired/turbo", "/assets/turbo.js"],
    ["@hotwired/stimulus", "/assets/stimulus.js"],
    ...controllers.map((f) => [f === "index.js" ? "controllers" : `controllers/${f.slice(0, -3)}`, `/assets/controllers/${f}`]),
  ]),
})
const importmapHash = createHash("sha256").update(importmap).digest("base64")
const files = {
  "/assets/turbo.js": "node_modules/@hotwired/turbo/dist/turbo.es2017-esm.js",
  "/assets/stimulus.js": "node_modules/@hotwired/stimulus/dist/stimulus.js",
  "/assets/application.js": "assets/application.js",
  "/assets/app.css": "assets/css/app.css",
  ...Object.fromEntries(controllers.map((f) => [`/assets/controllers/${f}`, `assets/controllers/${f}`])),
}

// The scenario the next page load gets: how the stream behaves, and the job's steps.
let scenario
const steps = [["processing", 10, 100], ["processing", 60, 100], ["completed", 100, 100]]

function page(body, nonce) {
  return render(view("layouts/application"), [{
    title: "Job", csp_nonce: nonce, importmap, body, csrf_field: "authenticity_token", csrf_token: PAGE_TOKEN,
  }])
}

function handle(req, res) {
  const url = new URL(req.url, "http://x")
  scenario.requests.push(url.pathname)
  const nonce = randomBytes(12).toString("base64")
  res.setHeader("Content-Security-Policy",
    `default-src 'self'; script-src 'self' 'sha256-${importmapHash}'; style-src 'self' 'nonce-${nonce}'; ` +
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
  if (files[url.pathname]) {
    const type = url.pathname.endsWith(".css") ? "text/css" : "text/javascript"
    res.writeHead(200, { "Content-Type": `${type}; charset=utf-8` })
    res.end(readFileSync(path.join(root, files[url.pathname])))
    return
  }
  if (url.pathname === "/job") {
    scenario.step = 0
    const body = render(view("job_status/show"), [jobView(...steps[0], PAGE_TOKEN)])
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
    res.end(page(body, nonce))
    return
  }
  if (url.pathname === "/jobs") {
    const body = render(view("jobs/index"), [dashboardView(scenario.dashboardJobs())])
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
    res.end(page(body, nonce))
    return
  }
  if (url.pathname === "/jobs/stream") {
    if (scenario.stream === "broken") {
      res.writeHead(500, { "Content-Type": "text/plain" })
      res.end("no stream today\n")
      return
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" })
    res.write(": connected\n\n")
    scenario.dashboardStream = res
    req.on("close", () => { scenario.dashboardStream = null })
    return
  }
  if (url.pathname === `/jobs/${JOB}/partial`) {
    scenario.step = Math.min(scenario.step + 1, steps.length - 1)
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
    res.end(render(view("shared/_job_status"), [jobView(...steps[scenario.step])]))
    return
  }
  if (req.method === "POST" && url.pathname === `/jobs/${JOB}/cancel`) {
    let body = ""
    req.on("data", (chunk) => { body += chunk })
    req.on("end", () => {
      scenario.posts.push(body)
      res.writeHead(303, { Location: "/job" })
      res.end()
    })
    return
  }
  if (url.pathname === `/jobs/${JOB}/stream`) {
    if (scenario.stream === "broken") {
      res.writeHead(500, { "Content-Type": "text/plain" })
      res.end("no stream today\n")
      return
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" })
    let seq = 0
    const send = () => {
      const [status, processed, total] = steps[seq]
      const html = render(view("shared/_job_status"), [jobView(status, processed, total)])
      const message = `<turbo-stream action="replace" target="job_status_${JOB}"><template>${html}</template></turbo-stream>`
      res.write(`id: ${seq + 1}\n${message.split("\n").map((l) => `data: ${l}`).join("\n")}\n\n`)
      seq++
      if (seq === steps.length) res.end()
      else if (!scenario.holdAfterFirst) scenario.timer = setTimeout(send, scenario.streamDelay)
    }
    // the first event comes only once the test has seen "Live"
    scenario.timer = setTimeout(send, scenario.streamDelay)
    req.on("close", () => clearTimeout(scenario.timer))
    return
  }
  res.writeHead(404, { "Content-Type": "text/plain" })
  res.end("not found\n")
}

let server
let baseUrl
let browser

before(async () => {
  server = http.createServer(handle)
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  baseUrl = `http://127.0.0.1:${server.address().port}`
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  })
})

after(async () => {
  await browser?.close()
  server?.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function openJobPage({ stream, streamDelay = 1500, withoutEventSource = false, holdAfterFirst = false }) {
  scenario = { stream, streamDelay, holdAfterFirst, requests: [], posts: [], step: 0 }
  const context = await browser.newContext()
  if (withoutEventSource) await context.addInitScript(() => { delete window.EventSource })
  const page = await context.newPage()
  const problems = []
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`) })
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`))
  await page.goto(`${baseUrl}/job`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  return { context, page, problems }
}

const indicator = (page) => page.locator("#job_live").getAttribute("data-state")
const jobStatus = (page) => page.locator(`#job_status_${JOB}`).getAttribute("data-status")
const polls = () => scenario.requests.filter((p) => p.endsWith("/partial")).length

test("a working stream shows Live and brings the job to completed without polling", async () => {
  const { context, page, problems } = await openJobPage({ stream: "ok" })
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "live")
  await page.waitForFunction((id) => document.getElementById(`job_status_${id}`)?.dataset.status === "completed", JOB, { timeout: 15000 })
  assert.equal(await indicator(page), "done")
  assert.equal(await page.locator("#job_live [data-live-text]").textContent(), "Finished")
  assert.equal(await page.locator("turbo-stream-source").count(), 0, "the stream element is gone")
  assert.equal(polls(), 0)
  assert.match(await page.locator(`#job_imported_${JOB}`).textContent(), /100/)
  await context.close()
  assert.deepEqual(problems, [])
})

test("without EventSource the page polls the partial every 2 s until completed, then stops", async () => {
  const { context, page, problems } = await openJobPage({ stream: "ok", withoutEventSource: true })
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "polling")
  assert.equal(await page.locator("#job_live [data-live-text]").textContent(), "Polling")
  const started = Date.now()
  await page.waitForFunction((id) => document.getElementById(`job_status_${id}`)?.dataset.status === "completed", JOB, { timeout: 15000 })
  const took = Date.now() - started
  assert.ok(took >= 3000, `two polls 2 s apart, not sooner (took ${took} ms)`)
  assert.equal(await page.locator(`#job_progress_${JOB}`).count(), 0)
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "done")
  const seen = polls()
  assert.equal(seen, 2)
  await page.waitForTimeout(4500)
  assert.equal(polls(), seen, "no poll after the terminal state")
  assert.equal(scenario.requests.filter((p) => p.endsWith("/stream")).length, 0)
  await context.close()
  assert.deepEqual(problems, [])
})

test("a stream that fails falls back to polling and reaches completed", async () => {
  const { context, page, problems } = await openJobPage({ stream: "broken" })
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "polling")
  await page.waitForFunction((id) => document.getElementById(`job_status_${id}`)?.dataset.status === "completed", JOB, { timeout: 15000 })
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "done")
  assert.equal(await page.locator("turbo-stream-source").count(), 0)
  assert.equal(polls(), 2)
  await context.close()
  // Chromium reports the failed stream request itself; nothing else may appear.
  assert.deepEqual(problems.filter((p) => !/status of 500|EventSource/.test(p)), [])
})

test("a partial from the stream carries no token; Cancel sends the page's own", async () => {
  const { context, page, problems } = await openJobPage({ stream: "ok", streamDelay: 300, holdAfterFirst: true })
  await page.waitForFunction(() => document.querySelector("#job_live").dataset.state === "live")
  // the streamed partial replaced the page's: its token field is empty
  await page.waitForFunction((id) => document.querySelector(`#job_status_${id} input[name=authenticity_token]`)?.value === "", JOB)
  await page.locator(`#job_cancel_${JOB}`).click()
  for (let i = 0; i < 50 && scenario.posts.length === 0; i++) await page.waitForTimeout(100)
  assert.deepEqual(scenario.posts, [`authenticity_token=${PAGE_TOKEN}`])
  await context.close()
  assert.deepEqual(problems, [])
})

// The dashboard: one job row that the stream replaces, and a refresh that reloads the page.
function sendEvent(res, message) {
  res.write(`${message.split("\n").map((l) => `data: ${l}`).join("\n")}\n\n`)
}

async function openDashboard({ stream, withoutEventSource = false }) {
  const context = await browser.newContext()
  if (withoutEventSource) await context.addInitScript(() => { delete window.EventSource })
  const page = await context.newPage()
  const problems = []
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`) })
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`))
  await page.goto(`${baseUrl}/jobs`)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  return { context, page, problems }
}

test("the dashboard: a streamed row replaces its row, a refresh morphs in the new counts", async () => {
  let jobs = [jobView("processing", 10, 100)]
  scenario = { stream: "ok", requests: [], posts: [], dashboardJobs: () => jobs }
  const { context, page, problems } = await openDashboard({ stream: "ok" })
  await page.waitForFunction(() => document.querySelector("#jobs_live").dataset.state === "live")
  for (let i = 0; i < 50 && !scenario.dashboardStream; i++) await page.waitForTimeout(100)
  const row = render(view("jobs/_row"), [jobView("processing", 60, 100)])
  sendEvent(scenario.dashboardStream, `<turbo-stream action="replace" target="job_row_${JOB}"><template>${row}</template></turbo-stream>`)
  await page.waitForFunction((id) => document.querySelector(`#job_row_${id} progress`)?.value === 60, JOB)
  jobs = [jobView("completed", 100, 100)]
  sendEvent(scenario.dashboardStream, '<turbo-stream action="refresh" method="morph" scroll="preserve"></turbo-stream>')
  await page.waitForFunction((id) => document.querySelector(`#job_row_${id}`)?.dataset.status === "completed", JOB)
  const completed = page.locator("#job_counts li", { hasText: "Completed" }).locator(".job-counts__n")
  assert.equal(await completed.textContent(), "1")
  assert.equal(await page.locator("#jobs_live").getAttribute("data-state"), "live", "the morph keeps the indicator")
  await context.close()
  assert.deepEqual(problems, [])
})

test("the dashboard without EventSource polls its own URL and shows the change", async () => {
  let jobs = [jobView("processing", 10, 100)]
  scenario = { stream: "ok", requests: [], posts: [], dashboardJobs: () => jobs }
  const { context, page, problems } = await openDashboard({ stream: "ok", withoutEventSource: true })
  await page.waitForFunction(() => document.querySelector("#jobs_live").dataset.state === "polling")
  jobs = [jobView("failed", 10, 100)]
  await page.waitForFunction((id) => document.querySelector(`#job_row_${id}`)?.dataset.status === "failed", JOB, { timeout: 15000 })
  const failed = page.locator("#job_counts li", { hasText: "Failed" }).locator(".job-counts__n")
  assert.equal(await failed.textContent(), "1")
  assert.equal(scenario.requests.filter((p) => p === "/jobs/stream").length, 0)
  await context.close()
  assert.deepEqual(problems, [])
})
