#!/usr/bin/env node
/** The `rpcservice` command. */
import { Command } from "commander";
import { registerClientCommand } from "./client-command.js";
import { reportFailure } from "./errors.js";
import { registerKeysCommand } from "./keys-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerSteerCommands } from "./steer-commands.js";

const program = new Command();
program
  .name("rpcservice")
  .description("Share one broker connection among many trading processes (a VeighNa-compatible RPC server).")
  .version("0.1.0");

registerServeCommand(program);
registerClientCommand(program);
registerSteerCommands(program);
registerKeysCommand(program);

// Commander reports its own usage errors in one line; everything a command throws is reported the same way.
await program.parseAsync(process.argv).catch(reportFailure);
