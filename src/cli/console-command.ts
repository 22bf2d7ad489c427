/**
 * `rpcservice console`: named console users with roles, instead of one shared token.
 *
 *   console add-user NAME --role viewer|trader|admin [--home DIR]   prints the user's token once
 *   console remove-user NAME [--home DIR]                           a running server closes their connections
 *   console users [--home DIR]
 */
import { Option, type Command } from "commander";
import { join } from "node:path";
import { CONSOLE_USERS_FILE, ROLES, addConsoleUser, readConsoleUsers, removeConsoleUser, type Role } from "../service/index.js";
import { auditCommandLine } from "./audit-command.js";
import { CliError } from "./errors.js";

export function registerConsoleCommand(program: Command): void {
  const consoleCommand = program.command("console").description("console users: each with a name, a role and a token of their own");

  consoleCommand
    .command("add-user")
    .description("add a console user; their token is printed once (only its hash is kept)")
    .argument("<name>", "the user's name, shown on the page, in the clients view and in the audit trail")
    .addOption(new Option("--role <role>", "what the user may do").choices(ROLES).makeOptionMandatory())
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((name: string, flags: { role: Role; home: string }) => {
      const { token, path } = addConsoleUser(flags.home, name, flags.role);
      auditCommandLine(flags.home, "console.add_user", { name, role: flags.role });
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `console user ${name} (${flags.role}) added to ${path}. The token above is shown once: the user opens the console ` +
          `with ?token=<token> (or sends Authorization: Bearer <token>). Once any user exists, the console asks everyone for a token.\n`,
      );
    });

  consoleCommand
    .command("remove-user")
    .description("remove a console user: their token stops working and their open connections are closed")
    .argument("<name>")
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((name: string, flags: { home: string }) => {
      if (!removeConsoleUser(flags.home, name)) throw new CliError(`no console user named ${JSON.stringify(name)}`, "see rpcservice console users");
      auditCommandLine(flags.home, "console.remove_user", { name });
      process.stdout.write(`removed console user ${name}\n`);
    });

  consoleCommand
    .command("users")
    .description("the console users and their roles")
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((flags: { home: string }) => {
      const users = readConsoleUsers(join(flags.home, CONSOLE_USERS_FILE));
      if (users.length === 0) process.stdout.write("no console users (the console uses the shared token, if any)\n");
      for (const user of users) process.stdout.write(`${user.name}  ${user.role}  since ${new Date(user.created).toISOString()}\n`);
    });
}
