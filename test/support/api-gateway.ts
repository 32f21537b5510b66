import type { APIGatewayProxyEventV2WithIAMAuthorizer, Context } from 'aws-lambda';

export interface ApiGatewayRequest {
  method: string;
  /** Path with the query string, as a client would write it: `/jobs?limit=10`. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as it is. */
  body?: string;
  /** Serialized as the body, with `content-type: application/json` unless `headers` says otherwise. */
  json?: unknown;
  /** API Gateway base64-encodes bodies it does not take for text. */
  base64?: boolean;
  /** A named stage shows in `rawPath`; the `$default` stage does not. */
  stage?: string;
  requestId?: string;
}

let requestCounter = 0;

/**
 * An HTTP API (payload format 2.0) event as API Gateway hands it to Lambda behind `AWS_IAM` authorization:
 * lower-cased headers, `body` absent when there is none, `queryStringParameters` absent when there is no query,
 * `pathParameters` and `routeKey` filled when the path matches one of the tracking API's routes.
 */
export function apiGatewayEvent(request: ApiGatewayRequest): APIGatewayProxyEventV2WithIAMAuthorizer {
  const requestId = request.requestId ?? `req-${++requestCounter}`;
  const url = new URL(request.url, 'https://abc123.execute-api.eu-west-1.amazonaws.com');
  const stage = request.stage ?? '$default';
  const rawPath = `${stage === '$default' ? '' : `/${stage}`}${url.pathname}`;
  const headers: Record<string, string> = {
    accept: '*/*',
    host: url.host,
    'user-agent': 'awscurl/0.36',
    'x-amz-date': '20260101T000000Z',
    'x-amzn-trace-id': `Root=1-00000000-${requestId}`,
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  let body = request.body;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers['content-type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const match = /^\/jobs(?:\/([^/]+))?$/.exec(url.pathname);
  const routeKey = match
    ? `${request.method} ${match[1] === undefined ? '/jobs' : '/jobs/{job_id}'}`
    : '$default';
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(match?.[1] === undefined ? {} : { pathParameters: { job_id: decodeURIComponent(match[1]) } }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: {
        iam: {
          accessKey: 'ASIAEXAMPLEKEY',
          accountId: '123456789012',
          callerId: 'AROAEXAMPLE:ci',
          cognitoIdentity: null,
          principalOrgId: 'o-example',
          userArn: 'arn:aws:sts::123456789012:assumed-role/ci/ci',
          userId: 'AROAEXAMPLE:ci',
        },
      },
      domainName: url.host,
      domainPrefix: 'abc123',
      http: {
        method: request.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'awscurl/0.36',
      },
      requestId,
      routeKey,
      stage,
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body: request.base64 ? Buffer.from(body).toString('base64') : body }),
    isBase64Encoded: request.base64 ?? false,
  };
}

/** A Lambda context for the API function. */
export function apiLambdaContext(awsRequestId = 'lambda-req-1'): Context {
  return {
    awsRequestId,
    functionName: 'dli-watch-dev-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dli-watch-dev-api',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/dli-watch-dev-api',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
