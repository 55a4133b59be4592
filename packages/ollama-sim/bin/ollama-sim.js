#!/usr/bin/env node
// A committed entry point, so installing the workspace links the bin before dist/ is built (`pnpm build`).
import "../dist/cli.js";
