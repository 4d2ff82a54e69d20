// Checks Discord interaction signatures with Discord's own helper (npm `discord-interactions`, `verifyKey`).
//
// Protocol (newline-delimited JSON): reads {"publicKey", "timestamp", "body" (base64), "signature"} lines on
// stdin and prints one {"valid": bool} line per input line, in order. A line that is not such an object gets
// {"valid": false, "error": "..."}. Used by crates/kalcord-discord/tests/integration/signature_fidelity.rs.
import { createInterface } from "node:readline";

import { verifyKey } from "discord-interactions";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") {
    continue;
  }
  let answer;
  try {
    const { publicKey, timestamp, body, signature } = JSON.parse(line);
    const raw = Buffer.from(body ?? "", "base64");
    answer = { valid: (await verifyKey(raw, signature, timestamp, publicKey)) === true };
  } catch (error) {
    answer = { valid: false, error: String(error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
