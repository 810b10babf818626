// Generated CSV files and multipart bodies for the upload benchmarks.
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";

const HEADER = "id,name,email,amount,created_at,comment\n";

function row(i) {
  const day = String((i % 28) + 1).padStart(2, "0");
  return `${i},user ${i},user${i}@example.com,${((i * 7919) % 100000) / 100},2026-11-${day}T12:00:00Z,"note ${i % 97}, with a comma"\n`;
}

/** Writes a CSV of about `bytes` bytes; resolves to the number of data rows (header excluded). */
export function generateCsv(path, bytes) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path);
    out.on("error", reject);
    let written = 0;
    let rows = 0;
    const write = () => {
      let ok = true;
      while (ok && written < bytes) {
        let chunk = written === 0 ? HEADER : "";
        for (let k = 0; k < 1000 && written + chunk.length < bytes; k++) chunk += row(++rows);
        written += chunk.length;
        ok = out.write(chunk);
      }
      if (written < bytes) out.once("drain", write);
      else out.end(() => resolve(rows));
    };
    write();
  });
}

export const BOUNDARY = "----bench-background-tasks-7d1f";

/** A multipart/form-data body with the CSV in the field `file` (as the seed's /upload expects). */
export function writeMultipartBody(csvPath, bodyPath, filename = "data.csv") {
  const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`;
  const tail = `\r\n--${BOUNDARY}--\r\n`;
  writeFileSync(bodyPath, Buffer.concat([Buffer.from(head), readFileSync(csvPath), Buffer.from(tail)]));
  return `multipart/form-data; boundary=${BOUNDARY}`;
}
