// Writes r-services/<service>/openapi.json from the TypeScript schemas the clients use, so the published
// contract and the clients cannot drift. Run: npx tsx r-services/openapi.ts
import { writeFileSync } from "node:fs"
import { openApiDocument, services } from "../stages/models/RServiceOpenApi.ts"

for (const service of Object.keys(services) as Array<keyof typeof services>) {
  const file = new URL(`./${service}/openapi.json`, import.meta.url)
  writeFileSync(file, JSON.stringify(openApiDocument(service), null, 2) + "\n")
  console.log(`wrote ${file.pathname}`)
}
