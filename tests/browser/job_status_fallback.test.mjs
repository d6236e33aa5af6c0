// Browser tests for the live job page and dashboard, self-contained: a small Node HTTP
// server here plays sheetd's job routes (the page, the SSE streams, the partial, the
// dashboard) with the real views and assets (tests/browser/support/fake_sheetd.mjs), and
// Debian's Chromium, driven by playwright-core, checks what only a browser can: the page
// says "Live" while the stream works; with EventSource removed, or with a stream that
// fails, it says "Polling", polls the partial every 2 s until the job reaches a terminal
// state, and stops there; a streamed partial's Cancel sends the page's own CSRF token; the
// dashboard's rows and counts follow the stream or, without one, polling; and no console
// error appears on the way.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import http from "node:http"
import {
  JOB, PAGE_TOKEN, dashboardView, jobView, launchBrowser, layoutPage, openPage, render, securityHeaders,
  sendHtml, serveAsset, view,
} from "./support/fake_sheetd.mjs"

let scenario
const steps = [["processing", 10, 100], ["processing", 60, 100], ["completed", 100, 100]]

function handle(req, res) {
  const url = new URL(req.url, "http://x")
  scenario.requests.push(url.pathname)
  const nonce = securityHeaders(res)
  if (serveAsset(url.pathname, res)) return
  if (url.pathname === "/job") {
    scenario.step = 0
    const body = render(view("job_status/show"), [jobView(...steps[0], PAGE_TOKEN)])
    sendHtml(res, layoutPage(body, nonce))
    return
  }
  if (url.pathname === "/jobs") {
    const body = render(view("jobs/index"), [dashboardView(scenario.dashboardJobs())])
    sendHtml(res, layoutPage(body, nonce))
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
    sendHtml(res, render(view("shared/_job_status"), [jobView(...steps[scenario.step])]))
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
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  server?.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function openJobPage({ stream, streamDelay = 1500, withoutEventSource = false, holdAfterFirst = false }) {
  scenario = { stream, streamDelay, holdAfterFirst, requests: [], posts: [], step: 0 }
  return openPage(browser, `${baseUrl}/job`, { withoutEventSource })
}

const indicator = (page) => page.locator("#job_live").getAttribute("data-state")
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

function openDashboard({ withoutEventSource = false } = {}) {
  return openPage(browser, `${baseUrl}/jobs`, { withoutEventSource })
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
