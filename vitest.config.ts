import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // R services and databases are shared machine resources: keep test files from starving each other
    fileParallelism: false,
    reporters: ["default"]
  }
})
