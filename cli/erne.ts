#!/usr/bin/env node
import { runCli } from './main.js';

void runCli(process.argv.slice(2));
