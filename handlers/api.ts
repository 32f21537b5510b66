import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { type ApiRequest, createTrackingApi } from '../lib/api/tracking-api.ts';
import { loadStoreConfig } from '../lib/config/env-settings.ts';
import { openStore } from '../lib/store/open-store.ts';

const logger = new Logger({ serviceName: 'dli-watch' });
// Opened once per container and reused by every request it serves; a bad DLI_WATCH_STORE fails the cold start.
const config = loadStoreConfig(process.env, { cwd: process.cwd() });
const api = openStore(config.store).then((store) => createTrackingApi({ store, log: logger }));

/** The tracking API behind API Gateway (HTTP API, payload format 2.0, `AWS_IAM` authorization). */
export const handler = middy(
  async (
    event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithIAMAuthorizer,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.setCorrelationId(event.requestContext.requestId);
    const request = toApiRequest(event);
    const response = await (await api)(request);
    logger.info('request handled', {
      method: request.method,
      path: request.path,
      status: response.status,
      caller: 'authorizer' in event.requestContext ? event.requestContext.authorizer.iam?.userArn : undefined,
    });
    return { statusCode: response.status, headers: response.headers, body: response.body };
  },
).use(injectLambdaContext(logger, { resetKeys: true }));

function toApiRequest(event: APIGatewayProxyEventV2): ApiRequest {
  const { stage } = event.requestContext;
  // A named stage (not `$default`) appears in front of the path; routes are written without it.
  const stagePrefix = stage && stage !== '$default' ? `/${stage}` : '';
  const path =
    stagePrefix && (event.rawPath === stagePrefix || event.rawPath.startsWith(`${stagePrefix}/`))
      ? event.rawPath.slice(stagePrefix.length) || '/'
      : event.rawPath;
  let body: string | null = event.body ?? null;
  if (body !== null && event.isBase64Encoded) body = Buffer.from(body, 'base64').toString('utf8');
  return {
    method: event.requestContext.http.method,
    path,
    query: { ...event.queryStringParameters },
    headers: { ...event.headers },
    body,
  };
}
