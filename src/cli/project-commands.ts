/**
 * `berth new-project`, `projects`, `project [NAME]`, `delete project NAME`.
 * The current project is remembered per server in the client config, as oc
 * does, and is the default of every `-n`.
 */
import type { Command } from 'commander';
import { apiPath } from './api-client.ts';
import { withServer } from './client-config.ts';
import { CliError } from './cli-errors.ts';
import { formatAge, formatList, formatObject, outputOption } from './output.ts';
import type { Column, OutputFormat } from './output.ts';
import { anyBody, projectSchema } from './resources.ts';
import type { Project } from './resources.ts';
import { checkName, commandGroup, note, print, withSession } from './session.ts';


function projectColumns(current: string | undefined): Column<Project>[] {
  return [
    { header: 'current', value: (p) => (p.metadata.name === current ? '*' : '') },
    { header: 'name', value: (p) => p.metadata.name },
    { header: 'display name', value: (p) => p.spec?.displayName ?? '' },
    { header: 'status', value: (p) => p.status?.phase ?? '' },
    { header: 'requester', value: (p) => p.metadata.annotations?.['berth.dev/requester'] ?? '', wide: true },
    { header: 'age', value: (p) => formatAge(p.metadata.creationTimestamp), wide: true },
  ];
}

export function registerProjectCommands(program: Command): void {
  program
    .command('new-project')
    .description('create a project (you become its registry-admin) and switch to it')
    .argument('<name>', 'project name')
    .option('--display-name <text>', 'a human-friendly name')
    .action(async (name: string, flags: { displayName?: string }) => {
      checkName('projects', name);
      await withSession(async ({ api, store }) => {
        const body = { apiVersion: 'berth.dev/v1', kind: 'Project', metadata: { name }, ...(flags.displayName === undefined ? {} : { spec: { displayName: flags.displayName } }) };
        const created = await api.json('POST', apiPath('projects'), projectSchema, { body });
        await store.update((c) => withServer(c, api.server, { project: created.metadata.name }));
        print(`Now using project "${created.metadata.name}" on server "${api.server}".`);
      });
    });

  program
    .command('projects')
    .description('list the projects you can see (the current one is marked with *)')
    .addOption(outputOption())
    .action(async (flags: { output?: OutputFormat }) => {
      await withSession(async ({ api, entry }) => {
        const list = await api.list(apiPath('projects'), projectSchema);
        const text = formatList(flags.output, 'ProjectList', projectColumns(entry.project), list.items);
        if (text === '') note(`You have no projects on ${api.server}: create one with \`berth new-project NAME\`.`);
        print(text);
      });
    });

  program
    .command('project')
    .description('show the current project, or switch to another one')
    .argument('[name]', 'the project to switch to')
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { output?: OutputFormat }) => {
      await withSession(async ({ api, store, entry }) => {
        if (name === undefined) {
          if (entry.project === undefined) throw new CliError('not-configured', 'no current project: choose one with `berth project NAME`');
          if (flags.output === undefined) {
            print(`Using project "${entry.project}" on server "${api.server}".`);
            return;
          }
          const project = await api.json('GET', apiPath('projects', entry.project), projectSchema);
          print(formatObject(flags.output, projectColumns(entry.project), project));
          return;
        }
        checkName('projects', name);
        // Switch only to a project that exists and that we may see, so a typo fails now and not at the next command.
        const project = await api.json('GET', apiPath('projects', name), projectSchema);
        await store.update((c) => withServer(c, api.server, { project: project.metadata.name }));
        if (flags.output === undefined) print(`Now using project "${project.metadata.name}" on server "${api.server}".`);
        else print(formatObject(flags.output, projectColumns(project.metadata.name), project));
      });
    });

  commandGroup(program, 'delete', 'delete a resource')
    .command('project')
    .description('delete a project with its repositories and image streams')
    .argument('<name>', 'project name')
    .action(async (name: string) => {
      checkName('projects', name);
      await withSession(async ({ api, store, entry }) => {
        await api.json('DELETE', apiPath('projects', name), anyBody);
        if (entry.project === name) await store.update((c) => withServer(c, api.server, { project: undefined }));
        print(`project "${name}" deleted`);
      });
    });
}
