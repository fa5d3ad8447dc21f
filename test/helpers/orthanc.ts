// A throw-away Orthanc with its DICOMweb plugin for the PACS tests (../shared/docs/dicom-notes.md, sections 1-2):
// started on 127.0.0.1 at a free port with a temporary storage folder and an explicit configuration (DICOM server
// off, HTTP remote access off), waited for on /system, killed at the end. A missing Orthanc fails the test with the
// Debian packages to install (.ci/run installs them); nothing is skipped silently.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC = '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const INSTALL = 'apt-get install -y orthanc orthanc-dicomweb';

export interface OrthancOptions {
  /** Basic-auth users; without them authentication is off. */
  readonly users?: Readonly<Record<string, string>>;
}

export interface RunningOrthanc {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The DICOMweb root, as a `pacs` endpoint's url. */
  readonly dicomWebUrl: string;
  readonly dir: string;
  /** Stores Part 10 instances through the REST API (not DICOMweb: the service's STOW is what is tested). */
  store(instances: readonly Uint8Array[]): Promise<void>;
  /** Kills the server at once (SIGKILL: instant, and the temporary index does not need a clean close). */
  kill(): Promise<void>;
  /** Kills the server and removes its folder. */
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

export function requireOrthanc(): void {
  for (const path of [ORTHANC, ORTHANC_DICOMWEB_PLUGIN]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: the PACS tests need Orthanc and its DICOMweb plugin; install the Debian packages with \`${INSTALL}\` (.ci/run does)`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  requireOrthanc();
  // A port found free may be taken before Orthanc binds it (it then exits 255): try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await freePort(), options);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function launch(port: number, options: OrthancOptions): Promise<RunningOrthanc> {
  const dir = mkdtempSync(join(tmpdir(), 'onesam-orthanc-'));
  const auth = options.users !== undefined;
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify({
    Name: 'onesam-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    HttpPort: port,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: auth,
    ...(auth ? { RegisteredUsers: options.users } : {}),
    DicomServerEnabled: false,
    SaveJobs: false,
    HttpThreadsCount: 4,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
  }));
  const logPath = join(dir, 'orthanc.log');
  const logFd = openSync(logPath, 'w');
  const child: ChildProcess = spawn(ORTHANC, [join(dir, 'orthanc.json')], { stdio: ['ignore', logFd, logFd] });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.on('exit', (code) => {
    exited = code;
    resolve();
  }));
  const url = `http://127.0.0.1:${port}`;
  const authorization = auth ? `Basic ${Buffer.from(Object.entries(options.users!)[0]!.join(':')).toString('base64')}` : undefined;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({ ...extra, ...(authorization ? { authorization } : {}) });
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Orthanc exited (${exited}) before answering:\n${log().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/system`, { headers: headers() });
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Orthanc did not answer on ${url} within 20 s:\n${log().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const kill = async (): Promise<void> => {
    if (exited === undefined) child.kill('SIGKILL');
    await exit;
  };
  return {
    url,
    dicomWebUrl: `${url}/dicom-web`,
    dir,
    async store(instances) {
      for (const instance of instances) {
        const res = await fetch(`${url}/instances`, { method: 'POST', body: Buffer.from(instance), headers: headers({ 'content-type': 'application/dicom' }) });
        if (!res.ok) throw new Error(`Orthanc refused an instance: HTTP ${res.status} ${await res.text()}`);
      }
    },
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}
