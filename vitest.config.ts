import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// `seedtest-source`: inside the repository, `import … from "seedtest-pipelines"` resolves to the TypeScript sources
// (package.json `exports`); an installed package resolves to the compiled dist/lib
const conditions = ["seedtest-source", ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // R services and databases are shared machine resources: keep test files from starving each other
    fileParallelism: false,
    reporters: ["default"]
  }
})
