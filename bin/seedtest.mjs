#!/usr/bin/env node
// The `seedtest` command: runs the TypeScript CLI through tsx's loader (no build step in a checkout).
import { register } from "tsx/esm/api"

register()
await import("../cli/main.ts")
