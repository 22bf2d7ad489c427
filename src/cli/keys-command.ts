/**
 * `rpcservice keys`: CURVE key pairs and the server's allow-list.
 *
 *   keys generate [--out FILE]                                   a client key pair: secret in FILE (0600), public on stdout
 *   keys authorize <public-key> [--name N] [--role R] [--home DIR]  lets that key connect, with a role
 *   keys list [--home DIR]                                       the authorized keys, names and roles
 *   keys revoke <name> [--home DIR]                              removes the key(s) of that name (or that key)
 *
 * A running server sees each change at once (it watches the file): a revoked key's connections are closed.
 * Role changes are written to the audit trail.
 */
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import {
  AUTHORIZED_CLIENTS_FILE,
  DEFAULT_KEY_ROLE,
  ROLES,
  authorizeClient,
  readAuthorizedClientEntries,
  revokeClient,
  writeKeyFile,
  type Role,
} from "../service/index.js";
import { curveKeyPair, isCurveKey } from "../zmtp/index.js";
import { auditCommandLine } from "./audit-command.js";
import { CliError } from "./errors.js";

const DEFAULT_KEY_FILE = "curve_client.key";

export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("CURVE keys: generate a key pair, authorize a client key on the server");

  keys
    .command("generate")
    .description("create a CURVE key pair: the secret key goes to a file (mode 600), the public key to stdout")
    .option("--out <file>", "secret key file (the public key is also written to <file>.pub)", DEFAULT_KEY_FILE)
    .addHelpText(
      "after",
      `
The public key is the only line on stdout, so it can be captured:
  KEY=$(rpcservice keys generate --out alice.key)
  rpcservice keys authorize "$KEY" --name alice --home .rpcservice     (on the server)
  rpcservice client --server-key <server public key> --key-file alice.key`,
    )
    // A KeyFileError (file exists, unwritable folder) reaches main's one-line report like any failure.
    .action((flags: { out: string }) => {
      const pair = curveKeyPair();
      const path = resolve(flags.out);
      const publicPath = writeKeyFile(path, pair);
      process.stdout.write(`${pair.publicKey}\n`);
      process.stderr.write(`secret key written to ${path} (mode 600), public key to ${publicPath}\n`);
    });

  const authorize = new KeyOperandCommand("authorize").copyInheritedSettings(keys);
  keys.addCommand(authorize);
  authorize
    .description(`allow a client public key to connect to a CURVE server, with a role (<home>/${AUTHORIZED_CLIENTS_FILE})`)
    .argument("<public-key>", "the client's public key (40 Z85 characters)")
    .option("--name <name>", "what the client is called in logs, the clients view, order ownership and the audit trail")
    .addOption(new Option("--role <role>", `what it may do (a key listed without a role is a ${DEFAULT_KEY_ROLE})`).choices(ROLES))
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((publicKey: string, flags: { name?: string; role?: Role; home: string }) => {
      const path = join(flags.home, AUTHORIZED_CLIENTS_FILE);
      const changed = authorizeClient(path, publicKey, flags.name ?? "", flags.role);
      const entry = readAuthorizedClientEntries(path)?.find((e) => e.publicKey === publicKey);
      const role = entry?.role ?? DEFAULT_KEY_ROLE;
      if (changed) auditCommandLine(flags.home, "keys.authorize", { public_key: publicKey, name: entry?.name ?? "", role });
      process.stdout.write(
        changed
          ? `authorized ${publicKey}${entry?.name ? ` (${entry.name})` : ""} as ${role} in ${path}; a running server applies it at once\n`
          : `${publicKey} is already authorized in ${path} as ${role}\n`,
      );
    });

  keys
    .command("list")
    .description(`the client keys authorized in <home>/${AUTHORIZED_CLIENTS_FILE}, with their names and roles`)
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .option("--json", "one JSON array")
    .action((flags: { home: string; json?: boolean }) => {
      const path = join(flags.home, AUTHORIZED_CLIENTS_FILE);
      const entries = (readAuthorizedClientEntries(path) ?? []).map((e) => ({ public_key: e.publicKey, name: e.name, role: e.role ?? DEFAULT_KEY_ROLE }));
      if (flags.json) {
        process.stdout.write(JSON.stringify(entries) + "\n");
        return;
      }
      if (entries.length === 0) {
        process.stdout.write(`no client keys authorized in ${path}\n`);
        return;
      }
      const width = Math.max(4, ...entries.map((e) => e.name.length));
      for (const e of entries) process.stdout.write(`${e.name.padEnd(width)}  ${e.role.padEnd(6)}  ${e.public_key}\n`);
    });

  const revoke = new KeyOperandCommand("revoke").copyInheritedSettings(keys);
  keys.addCommand(revoke);
  revoke
    .description("remove a client key by its name (or the key itself): new calls are refused at once and its connections closed")
    .argument("<name>", "the name given at authorize (every key of that name), or a public key")
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((name: string, flags: { home: string }) => {
      const path = join(flags.home, AUTHORIZED_CLIENTS_FILE);
      const removed = revokeClient(path, name);
      if (removed.length === 0) throw new CliError(`no key named ${JSON.stringify(name)} in ${path}`, "see rpcservice keys list");
      for (const entry of removed) {
        auditCommandLine(flags.home, "keys.revoke", { public_key: entry.publicKey, name: entry.name, role: entry.role ?? DEFAULT_KEY_ROLE });
        process.stdout.write(`revoked ${entry.publicKey}${entry.name ? ` (${entry.name})` : ""}\n`);
      }
    });
}

/**
 * A command whose operand may be a public key that starts with "-". '-' is one of Z85's 85 characters, so one key in
 * 85 does, and commander would read it as an unknown option ("error: unknown option '-tE]V(…'"). Such a key is moved
 * behind "--" before commander parses, unless it is the value of an option (`--name -x…` keeps its value).
 */
class KeyOperandCommand extends Command {
  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    const kept: string[] = [];
    const keys: string[] = [];
    let i = 0;
    for (; i < args.length && args[i] !== "--"; i++) {
      const arg = args[i]!;
      const option = this.options.find((o) => arg === o.long || arg === o.short);
      if (option && (option.required || option.optional) && i + 1 < args.length) kept.push(arg, args[++i]!);
      else if (arg.startsWith("-") && isCurveKey(arg) && !this.options.some((o) => arg.startsWith(`${o.long}=`))) keys.push(arg);
      else kept.push(arg);
    }
    if (keys.length === 0) return super.parseOptions(args);
    // These commands take one operand, so moving it behind the other words changes no meaning.
    return super.parseOptions([...kept, "--", ...keys, ...args.slice(i + 1)]);
  }
}
