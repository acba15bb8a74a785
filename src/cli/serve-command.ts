import type { Command } from 'commander';
import { loadConfig, type DeepPartial, type BerthConfig } from '../config/load-config.ts';

interface ServeFlags {
  readonly data?: string;
  readonly listen?: string;
  readonly config?: string;
  readonly insecureHttp?: boolean;
  readonly logLevel?: string;
}

/** `berth serve`: runs the registry in the foreground until SIGINT/SIGTERM. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the registry')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--listen <host:port>', 'address to listen on (default 0.0.0.0:5000)')
    .option('--config <file>', 'YAML config file')
    .option('--insecure-http', 'serve plain HTTP instead of HTTPS')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (flags: ServeFlags) => {
      const overrides: DeepPartial<BerthConfig> = {
        ...(flags.data === undefined ? {} : { dataDir: flags.data }),
        ...(flags.listen === undefined ? {} : { listen: flags.listen }),
        ...(flags.insecureHttp === true ? { tls: { enabled: false } } : {}),
        ...(flags.logLevel === undefined ? {} : { log: { level: flags.logLevel as BerthConfig['log']['level'] } }),
      };
      const config = await loadConfig({ ...(flags.config === undefined ? {} : { file: flags.config }), env: process.env, overrides });
      // Loaded here, not at the top: every other command would otherwise pay for the whole server's modules.
      const { startBerth } = await import('../composition-root.ts');
      const { trustHints } = await import('../tls/trust-hints.ts');
      const berth = await startBerth(config);
      // The hints name the address clients use, not a wildcard bind address like 0.0.0.0.
      const hostPort = new URL(berth.externalUrl).host;
      console.log(`Berth listening on ${berth.url}`);
      if (berth.externalUrl !== berth.url) console.log(`Clients reach it at ${berth.externalUrl}`);
      if (berth.caCertPath !== undefined) {
        console.log(`CA certificate: ${berth.caCertPath}`);
        console.log('To trust it for podman, skopeo and buildah (and docker, curl):');
        for (const hint of trustHints(berth.caCertPath, hostPort)) console.log(`  ${hint}`);
      }
      if (berth.admin.generatedPassword !== undefined) {
        console.log(`Created the administrator ${berth.admin.name} with the password ${berth.admin.generatedPassword}`);
        console.log('  (shown once; set BERTH_ADMIN_PASSWORD before the first start to choose it)');
      } else if (berth.admin.created) {
        console.log(`Created the administrator ${berth.admin.name} with the password from BERTH_ADMIN_PASSWORD`);
      }
      if (!config.tls.enabled) berth.logger.warn('serving plain HTTP (--insecure-http): credentials and content travel unencrypted');
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        berth.logger.info({ signal }, 'shutting down');
        berth.close().then(() => process.exit(0), (error: unknown) => {
          console.error(`berth: error while shutting down: ${(error as Error).message}`);
          process.exit(1);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
