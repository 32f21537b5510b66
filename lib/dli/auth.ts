/**
 * How dli-watch proves who it is to DLI: AK/SK request signing (optionally with a security token, for temporary
 * credentials) or an IAM token (docs/dli-api.md §4).
 */
export type DliAuth =
  | { kind: 'aksk'; accessKey: string; secretKey: string; securityToken: string | null }
  | { kind: 'token'; token: string };
