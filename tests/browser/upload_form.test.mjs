// Browser tests for the upload form on a template's page (views/import_templates/show and
// controllers/upload_controller.js), self-contained like job_status_fallback.test.mjs: a
// small Node server renders the real views and assets (support/fake_sheetd.mjs) and plays
// POST /import_templates/1/import_file. Checked: a file dropped on the zone is sent as the
// multipart field `file` with the page's CSRF token, the upload progress bar moves, and the
// 303 lands on the job page through Turbo; a refusal (413 error page, or the template page
// again with the server's message) is shown inline without leaving the page; and with
// JavaScript off the plain form still posts and follows the redirect.
import { test, before, after } from "node:test"
import assert from "node:assert/strict"
import http from "node:http"
import {
  JOB, PAGE_TOKEN, jobView, launchBrowser, layoutPage, openPage, render, securityHeaders,
  sendHtml, serveAsset, view,
} from "./support/fake_sheetd.mjs"

const template = { id: 1, name: "Customers", table: "customers", mode: "partial", column_count: 0, columns: [] }

let scenario
let server
let baseUrl
let browser

function templatePage(nonce, uploadError = "") {
  const body = render(view("import_templates/show"), [{
    template, csrf_field: "authenticity_token", csrf_token: PAGE_TOKEN, upload_error: uploadError,
  }])
  return layoutPage(body, nonce)
}

function handle(req, res) {
  const url = new URL(req.url, "http://x")
  const nonce = securityHeaders(res)
  if (serveAsset(url.pathname, res)) return
  if (req.method === "GET" && url.pathname === "/import_templates/1") {
    sendHtml(res, templatePage(nonce, scenario.flash || ""))
    scenario.flash = ""
    return
  }
  if (req.method === "GET" && url.pathname === `/import_templates/1/jobs/${JOB}`) {
    scenario.jobPageLoads++
    sendHtml(res, layoutPage(render(view("job_status/show"), [jobView("pending", 0, 0, PAGE_TOKEN)]), nonce))
    return
  }
  if (req.method === "GET" && url.pathname === `/jobs/${JOB}/stream`) {
    res.writeHead(200, { "Content-Type": "text/event-stream" })
    res.write(": connected\n\n")
    req.on("close", () => res.end())
    return
  }
  if (req.method === "POST" && url.pathname === "/import_templates/1/import_file") {
    const chunks = []
    req.on("data", (chunk) => chunks.push(chunk))
    req.on("end", () => {
      scenario.uploads.push({ type: req.headers["content-type"] || "", body: Buffer.concat(chunks).toString("latin1") })
      if (scenario.answer === "too big") {
        const body = render(view("errors/show"), [{ status: 413, reason: "Content Too Large", message: "The file is larger than the 1 MB this server accepts." }])
        sendHtml(res, layoutPage(body, nonce), 413)
      } else if (scenario.answer === "not a spreadsheet") {
        scenario.flash = "report.pdf is not a spreadsheet; upload an XLSX, XLS, ODS or CSV file."
        res.writeHead(303, { Location: "/import_templates/1" })
        res.end()
      } else {
        // a moment of "processing the upload", so the test can see the full progress bar
        setTimeout(() => {
          res.writeHead(303, { Location: `/import_templates/1/jobs/${JOB}` })
          res.end()
        }, 300)
      }
    })
    return
  }
  sendHtml(res, "not found\n", 404)
}

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

// Drops a file of `size` bytes named `name` onto the drop zone.
async function dropFile(page, name, size) {
  const transfer = await page.evaluateHandle(([n, s]) => {
    const dt = new DataTransfer()
    dt.items.add(new File(["a".repeat(s)], n, { type: "text/csv" }))
    return dt
  }, [name, size])
  await page.dispatchEvent(".drop-zone", "dragover", { dataTransfer: transfer })
  await page.dispatchEvent(".drop-zone", "drop", { dataTransfer: transfer })
}

test("a dropped file uploads with progress and lands on the job page", async () => {
  scenario = { answer: "ok", uploads: [], jobPageLoads: 0 }
  const { context, page, problems } = await openPage(browser, `${baseUrl}/import_templates/1`)
  await dropFile(page, "customers.csv", 3 * 1024 * 1024)
  assert.match(await page.locator("[data-upload-target=name]").textContent(), /customers\.csv \(3\.0 MB\)/)
  const progressSeen = page.waitForFunction(() => {
    const bar = document.querySelector("[data-upload-target=progress]")
    return bar && !bar.hidden && bar.value === 100
  })
  await page.getByRole("button", { name: "Upload and import" }).click()
  await progressSeen
  await page.waitForURL(new RegExp(`/import_templates/1/jobs/${JOB}$`))
  await page.locator(`#job_status_${JOB}[data-status=pending]`).waitFor()
  assert.equal(scenario.uploads.length, 1)
  const { type, body } = scenario.uploads[0]
  assert.match(type, /^multipart\/form-data; boundary=/)
  assert.match(body, /name="authenticity_token"\r\n\r\na{64}\r\n/)
  assert.match(body, /name="file"; filename="customers\.csv"\r\nContent-Type: text\/csv\r\n\r\naaa/)
  assert.equal(scenario.jobPageLoads, 1, "the job page XHR fetched is rendered, not fetched again")
  await context.close()
  assert.deepEqual(problems, [])
})

test("a refusal is shown inline: a 413 error page and a redirect back with a message", async () => {
  scenario = { answer: "too big", uploads: [], jobPageLoads: 0 }
  const { context, page, problems } = await openPage(browser, `${baseUrl}/import_templates/1`)
  await dropFile(page, "huge.csv", 1000)
  await page.getByRole("button", { name: "Upload and import" }).click()
  const error = page.locator("[data-upload-target=error]")
  await error.waitFor()
  assert.equal((await error.textContent()).trim(), "The file is larger than the 1 MB this server accepts.")
  assert.equal(await page.locator("[data-upload-target=progress]").isHidden(), true)
  assert.equal(await page.getByRole("button", { name: "Upload and import" }).isEnabled(), true)

  scenario.answer = "not a spreadsheet"
  await dropFile(page, "report.pdf", 100)
  assert.equal(await error.isHidden(), true, "choosing another file clears the message")
  await page.getByRole("button", { name: "Upload and import" }).click()
  await page.waitForFunction(() => /not a spreadsheet/.test(document.querySelector("[data-upload-target=error]").textContent))
  assert.match(page.url(), /\/import_templates\/1$/)
  assert.equal(scenario.uploads.length, 2)
  await context.close()
  // Chromium reports the 413 answer itself as a failed resource load; nothing else may appear.
  assert.deepEqual(problems.filter((p) => !/status of 413/.test(p)), [])
})

test("without JavaScript the plain form posts the file and follows the redirect", async () => {
  scenario = { answer: "ok", uploads: [], jobPageLoads: 0 }
  const context = await browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await page.goto(`${baseUrl}/import_templates/1`)
  await page.setInputFiles("#upload_file", { name: "plain.csv", mimeType: "text/csv", buffer: Buffer.from("Email\na@b.c\n") })
  await page.getByRole("button", { name: "Upload and import" }).click()
  await page.waitForURL(new RegExp(`/import_templates/1/jobs/${JOB}$`))
  assert.equal(scenario.uploads.length, 1)
  assert.match(scenario.uploads[0].body, /filename="plain\.csv"/)
  assert.match(scenario.uploads[0].body, /name="authenticity_token"\r\n\r\na{64}\r\n/)
  await context.close()
})
