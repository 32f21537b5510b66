export const HELP: Record<string, string> = {
  main: `dli-watch — tell your chat when Huawei Cloud DLI SQL jobs finish, fail or are cancelled

Usage: dli-watch <command> [options]

Commands:
  track <job-id>... [--label key=value]...   start watching jobs
  untrack <job-id>...                        stop watching jobs (drops what they still owe)
  list [--json]                              tracked jobs, their status and deliveries
  tick [--json] [--budget <seconds>]         run one cycle and print its summary
  run [--interval <seconds>]                 run a cycle every interval until SIGINT/SIGTERM
  test-destination [name]                    send a marked test message to one or all destinations
  demo                                       see it work against a local DLI simulator, no cloud account

Run 'dli-watch <command> --help' for a command's options. Configuration comes from environment
variables (see the README): DLI_REGION, DLI_PROJECT_ID, HUAWEICLOUD_SDK_AK/SK or DLI_AUTH_TOKEN,
DLI_WATCH_STORE, DLI_WATCH_CONFIG, DLI_WATCH_WEBHOOKS, ...

Exit codes: 0 done; 1 failed, worth retrying later; 2 bad usage or configuration; 3 DLI rejected the\ncredentials; 4 the store is unusable. Restarting cannot fix 2, 3 or 4.
`,
  track: `Usage: dli-watch track <job-id>... [--label key=value]... [--file <path>]

Starts watching DLI jobs. Tracking a job twice is harmless (the first labels stay).
A job id is 1-64 letters, digits and '-'.

Options:
  -l, --label key=value   a label stored with every job of this call, sent with its notifications
  -f, --file <path>       also read job ids from a file, one per line ('-' for standard input)
  -h, --help
`,
  untrack: `Usage: dli-watch untrack <job-id>...

Stops watching jobs. Deliveries they still owe are dropped with them.
`,
  list: `Usage: dli-watch list [--json]

Lists tracked jobs: id, last status (LOST when DLI stopped knowing the job), when it was last
polled, and its pending and dead-lettered deliveries.

Options:
  --json   one JSON array on stdout
`,
  tick: `Usage: dli-watch tick [--json] [--budget <seconds>]

Runs one cycle: polls the jobs that are due, sends what is owed, prints a summary.
Exits 0 when the cycle ran, even if some jobs or deliveries failed (they are retried later).

Options:
  --json               the summary as one JSON object on stdout
  --budget <seconds>   start no new job after this long (default 50); the rest waits for the next cycle
`,
  run: `Usage: dli-watch run [--interval <seconds>]

Runs a cycle every interval (default 60 s). SIGINT or SIGTERM stops it after the jobs under way
have finished and recorded what they did, so nothing is lost or sent twice.

Options:
  --interval <seconds>   time between cycle starts (default 60, at least 1)
`,
  'test-destination': `Usage: dli-watch test-destination [name]

Sends a clearly marked test message to the destination called <name>, or to every configured
destination, once and without retries, and prints what each platform really answered: accepted,
or its error code and text. Exits 0 when every destination accepted, 1 otherwise.
`,
  demo: `Usage: dli-watch demo

Starts a local DLI simulator and two local receivers (one Slack-like, one Standard Webhooks),
tracks a few jobs that end FINISHED, FAILED and CANCELLED, runs the loop and prints each message
as it arrives. Uses a temporary store; needs no configuration and no network.
`,
};
