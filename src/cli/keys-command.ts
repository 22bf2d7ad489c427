/**
 * `rpcservice keys`: CURVE key pairs and the server's allow-list.
 *
 *   keys generate [--out FILE]                           a client key pair: secret in FILE (0600), public on stdout
 *   keys authorize <public-key> [--name N] [--home DIR]  lets that key connect (read at the next RPC start)
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { AUTHORIZED_CLIENTS_FILE, authorizeClient, writeKeyFile } from "../service/index.js";
import { curveKeyPair } from "../zmtp/index.js";

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

  keys
    .command("authorize")
    .description(`allow a client public key to connect to a CURVE server (appends to <home>/${AUTHORIZED_CLIENTS_FILE})`)
    .argument("<public-key>", "the client's public key (40 Z85 characters)")
    .option("--name <name>", "what the client is called in logs, the clients view and order ownership")
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .action((publicKey: string, flags: { name?: string; home: string }) => {
      const path = join(flags.home, AUTHORIZED_CLIENTS_FILE);
      const added = authorizeClient(path, publicKey, flags.name ?? "");
      process.stdout.write(
        added
          ? `authorized ${publicKey}${flags.name ? ` (${flags.name})` : ""} in ${path}; the RPC service reads it at its next start\n`
          : `${publicKey} is already authorized in ${path}\n`,
      );
    });
}
