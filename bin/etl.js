#!/usr/bin/env node
'use strict';
// A run keeps ~35 MB alive and makes garbage fast; by default V8 lets the heap grow to about four
// times what survives a full collection before the next one (~300 MiB of RSS at 1,000,000
// messages). Twice is enough: measured, the same speed at ~240 MiB. verify's garbage lives longer
// (5,000,000 messages: 275 MiB at twice), so it keeps 1.5 times (235 MiB, the same speed). Read at
// every collection, so it can be set here, unlike the heap's size limits.
const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
require('node:v8').setFlagsFromString(`--heap-growing-percent=${command === 'verify' ? 50 : 100}`);
require('../dist/src/cli.js').main(process.argv).then((code) => { process.exitCode = code; });
