// Shared by the browser tests that drive the real binary: starts `sheetd serve` on a free
// loopback port and resolves once it prints the address it listens on. Not a test file
// itself (the runner picks *.test.mjs).
import { spawn } from "node:child_process"

// Resolves to { child, url }; rejects when sheetd exits first or says nothing for 15 s.
export function startSheetd(bin, serveArgs, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", ...serveArgs], {
      cwd, env, stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    let err = ""
    const timer = setTimeout(() => reject(new Error(`sheetd did not start: ${err}`)), 15000)
    child.stdout.on("data", (chunk) => {
      out += chunk
      const m = out.match(/sheetd listening on (http:\/\/\S+)/)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1] })
      }
    })
    child.stderr.on("data", (chunk) => { err += chunk })
    child.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`sheetd exited with ${code}: ${err}`))
    })
  })
}
