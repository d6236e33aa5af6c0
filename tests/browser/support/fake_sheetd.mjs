// Shared by the self-contained browser tests: a stand-in for the parts of sheetd a test's
// own Node HTTP server needs to look like sheetd to a browser. It renders the REAL views
// (with a minimal mustache: variables, sections, inverted sections, partials, raw values),
// serves the REAL assets (application.js, the controllers, Turbo and Stimulus from
// node_modules) through the same import map and under the same Content-Security-Policy
// sheetd sends, and makes view data the way src/web/job_view.c does (only the keys the views
// use). Not a test file itself (the runner picks *.test.mjs).
import assert from "node:assert/strict"
import { createHash, randomBytes } from "node:crypto"
import { readFileSync, readdirSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
export const JOB = "3f9a0c1d2e4b5a69"
export const PAGE_TOKEN = "a".repeat(64)

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

export function view(name) {
  return readFileSync(path.join(root, "views", `${name}.mustache`), "utf8")
}

export function render(template, stack) {
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
export function jobView(status, processed, total, token = "") {
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
export function dashboardView(jobs) {
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

// --- assets and pages --------------------------------------------------------------------
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
// The layout around a page's body, with this response's style nonce.
export function layoutPage(body, nonce) {
  return render(view("layouts/application"), [{
    title: "Job", csp_nonce: nonce, importmap, body, csrf_field: "authenticity_token", csrf_token: PAGE_TOKEN,
  }])
}

// Sets sheetd's security headers on `res` and returns the style nonce for the page.
export function securityHeaders(res) {
  const nonce = randomBytes(12).toString("base64")
  res.setHeader("Content-Security-Policy",
    `default-src 'self'; script-src 'self' 'sha256-${importmapHash}'; style-src 'self' 'nonce-${nonce}'; ` +
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
  return nonce
}

// Answers an /assets/... request; false when the path is not an asset.
export function serveAsset(pathname, res) {
  if (!files[pathname]) return false
  const type = pathname.endsWith(".css") ? "text/css" : "text/javascript"
  res.writeHead(200, { "Content-Type": `${type}; charset=utf-8` })
  res.end(readFileSync(path.join(root, files[pathname])))
  return true
}

export function sendHtml(res, html, status = 200) {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8" })
  res.end(html)
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  })
}

// A fresh context and page that records console errors and exceptions in `problems`.
export async function openPage(browser, url, { withoutEventSource = false } = {}) {
  const context = await browser.newContext()
  if (withoutEventSource) await context.addInitScript(() => { delete window.EventSource })
  const page = await context.newPage()
  const problems = []
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`) })
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`))
  await page.goto(url)
  await page.waitForFunction(() => window.Turbo && window.Stimulus)
  return { context, page, problems }
}
