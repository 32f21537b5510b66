import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody } from '../../lib/simulator/loopback-server.ts';

/** One GetParameter call as the fake received it. */
export interface SsmRequest {
  target: string | undefined;
  name: string | undefined;
  withDecryption: boolean | undefined;
}

/**
 * A loopback server speaking the slice of the SSM JSON protocol Powertools Parameters uses: `POST /` with
 * `x-amz-target: AmazonSSM.GetParameter`. Point the SDK at it with `AWS_ENDPOINT_URL_SSM`.
 */
export interface FakeSsm {
  /** `http://127.0.0.1:<port>`. */
  start(): Promise<string>;
  /** Stores (or replaces, as a rotation would) a SecureString parameter. */
  put(name: string, value: string): void;
  delete(name: string): void;
  readonly requests: SsmRequest[];
  close(): Promise<void>;
}

const JSON_1_1 = 'application/x-amz-json-1.1';

/** Starts nothing until `start`; parameters live in memory. */
export function createFakeSsm(): FakeSsm {
  const parameters = new Map<string, string>();
  const requests: SsmRequest[] = [];
  const server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': JSON_1_1 }).end(JSON.stringify(body));
    };
    const body = (await readRequestBody(request)).toString('utf8');
    const target = request.headers['x-amz-target'];
    const targetText = Array.isArray(target) ? target[0] : target;
    if (request.method !== 'POST' || request.url !== '/' || targetText !== 'AmazonSSM.GetParameter') {
      reply(400, { __type: 'InvalidAction', message: `unsupported: ${request.method} ${targetText}` });
      return;
    }
    const input = JSON.parse(body) as { Name?: string; WithDecryption?: boolean };
    requests.push({ target: targetText, name: input.Name, withDecryption: input.WithDecryption });
    const value = input.Name === undefined ? undefined : parameters.get(input.Name);
    if (value === undefined) {
      reply(400, { __type: 'ParameterNotFound', message: `Parameter ${input.Name} not found.` });
      return;
    }
    reply(200, { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } });
  });
  return {
    requests,
    start: () => listenOnLoopback(server),
    put: (name, value) => {
      parameters.set(name, value);
    },
    delete: (name) => {
      parameters.delete(name);
    },
    close: () => closeServer(server),
  };
}

/** Fake AWS credentials and region for talking to the fake: the SDK signs requests, the fake ignores it. */
export function fakeSsmEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SSM: endpoint,
    AWS_ACCESS_KEY_ID: 'ssm-test-access-key',
    AWS_SECRET_ACCESS_KEY: 'ssm-test-secret-access-key',
    AWS_REGION: 'eu-west-1',
  };
}
