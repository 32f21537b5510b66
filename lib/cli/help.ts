export const HELP: Record<string, string> = {
  main: `dli-watch — tell your chat when Huawei Cloud DLI SQL jobs finish, fail or are cancelled

Usage: dli-watch <command> [options]

Commands:
  track <job-id>... [--label key=value]...   start watching jobs
  untrack <job-id>... [--file <path>]        stop watching jobs (drops what they still owe)
  list [--json] [--status s] [--active] [--dead-lettered]
                                             tracked jobs, their status and deliveries
  show <job-id> [--json]                     one job in full: every delivery, its attempts and last error
  redeliver <job-id>... [--destination <name>]
                                             send dead-lettered deliveries again, with the same event id
  prune --older-than <duration>              remove jobs that finished longer ago than that
  tick [--json] [--budget <seconds>]         run one cycle and print its summary
  run [--interval <seconds>] [--health-file <path>]
                                             run a cycle every interval until SIGINT/SIGTERM
  test-destination [name]                    send a marked test message to one or all destinations
  check [--json]                             validate the environment and configuration, no DLI needed
  watches [--json]                           each watch: its filters, cursor, jobs found, last run
  demo                                       see it work against a local DLI simulator, no cloud account

Options every command takes:
  --store <spec>    the store: sqlite:<path> or dynamodb:<table> (wins over DLI_WATCH_STORE)
  --config <path>   the configuration file (wins over DLI_WATCH_CONFIG)
  -h, --help        a command's options: 'dli-watch <command> --help'
  -v, --version     print the version of dli-watch

Configuration comes from environment variables (see the README): DLI_REGION, DLI_PROJECT_ID,
HUAWEICLOUD_SDK_AK/SK or DLI_AUTH_TOKEN, DLI_WATCH_STORE, DLI_WATCH_CONFIG, DLI_WATCH_WEBHOOKS, ...
Only 'track' (and tick, run) create the store; the other commands that read or change jobs refuse
one that is not there, creating nothing.

Exit codes: 0 done; 1 failed, worth retrying later (also: a job or the store is not there); 2 bad
usage or configuration; 3 DLI rejected the credentials; 4 the store is unusable. Restarting cannot
fix 2, 3 or 4.
`,
  track: `Usage: dli-watch track <job-id>... [--label key=value]... [--warn-after <duration>] [--key <source>]
       [--file <path>]

Starts watching DLI jobs. Tracking a job twice is harmless (the first labels stay).
A job id is 1-64 letters, digits and '-'. Creates the store if it is not there yet.

Options:
  -l, --label key=value   a label stored with every job of this call, sent with its notifications
  --warn-after <duration> warn once when a job has run this long since DLI started it (90m, 2h;
                          wins over DLI_WATCH_WARN_AFTER)
  --key <source>          what ties runs of one logical job together, for failure streaks and
                          recoveries: tag:<tag key>, label:<label key> or sql (the SQL fingerprint)
  -f, --file <path>       also read job ids from a file, one per line ('-' for standard input;
                          blank lines and lines starting with '#' are skipped)
  --store, --config       see 'dli-watch --help'
  -h, --help
`,
  untrack: `Usage: dli-watch untrack <job-id>... [--file <path>]

Stops watching jobs. Deliveries they still owe are dropped with them. Ids that were not tracked
are named and left alone. If one id is invalid, nothing is changed.

Options:
  -f, --file <path>   also read job ids from a file, one per line ('-' for standard input;
                      blank lines and lines starting with '#' are skipped)
  --store, --config   see 'dli-watch --help'
`,
  list: `Usage: dli-watch list [--json] [--status <status>]... [--active] [--dead-lettered]

Lists tracked jobs: id, last status (LOST when DLI stopped knowing the job, NOT_FOUND while it does
not know it yet, NOT_POLLED before the first poll), when a poll last changed it, where its end was
routed, and its pending and dead-lettered deliveries. The filters combine: a job is shown when it passes every one given.

Options:
  --json              one JSON array on stdout
  --status <status>   only jobs in this status, as shown (FAILED, RUNNING, LOST, NOT_POLLED, ...;
                      any case). Repeat it, or separate with commas, for any of several
  --active            only jobs still polled (not ended, not lost)
  --dead-lettered     only jobs with a dead-lettered delivery
  --store, --config   see 'dli-watch --help'

Columns are as wide as their content (sized from the first 1000 jobs shown).
`,
  watches: `Usage: dli-watch watches [--json]

Shows each watch of the configuration (the file's "watches", and DLI_WATCH_QUEUES): its filters,
its cursor (every job it wants that started up to then has been found), how many jobs it has
found, and when it last ran and last found one. A watch the store remembers but the
configuration no longer declares is shown too. Reads the configuration as 'tick' does, so a
configuration with a bad watch exits 2 naming every problem.

Options:
  --json              one JSON array on stdout
  --store, --config   see 'dli-watch --help'
`,
  show: `Usage: dli-watch show <job-id> [--json]

Shows one job in full: its status (LOST, NOT_POLLED as 'list' shows them), labels, when it was
tracked, when DLI says it started, when a poll last changed it (a poll that finds nothing new
writes nothing) and when its status last changed, how many polls in a row DLI did not know it,
where its end was routed, its event id (the webhook-id of its deliveries), and every delivery,
pending or dead-lettered, with its attempts, next attempt and last error. Exits 1 if the job is
not tracked.

Options:
  --json              one JSON object on stdout
  --store, --config   see 'dli-watch --help'
`,
  redeliver: `Usage: dli-watch redeliver <job-id>... [--destination <name>] [--file <path>]

Puts the dead-lettered deliveries of these jobs back to pending, due now; the next cycle ('run',
'tick' or the Lambda) sends them. Each keeps its event, so a Standard Webhooks receiver gets the
same webhook-id as before and can tell a repeat. Each gets a fresh 24 hours of retries; its
attempt count and last error are kept. A change a running cycle makes to the same job meanwhile
is kept too. Jobs with nothing dead-lettered are named and left alone.
Exits 1 if a job was not tracked, or kept changing (try again).

Options:
  -d, --destination <name>   only the deliveries to this destination
  -f, --file <path>          also read job ids from a file, one per line ('-' for standard input)
  --store, --config          see 'dli-watch --help'
`,
  prune: `Usage: dli-watch prune --older-than <duration> [--include-dead-lettered]

Removes jobs that finished (ended FINISHED, FAILED or CANCELLED, or were marked LOST) longer ago
than <duration>, counted from the poll that saw them finish, and owe no pending delivery.
Jobs still polled, or still owing a delivery, are never removed.

Options:
  --older-than <duration>    a whole number and a unit: s, m (minutes), h, d or w; e.g. 30d, 12h
  --include-dead-lettered    also remove jobs with dead-lettered deliveries. Without it they are
                             kept (and counted): a dead-lettered delivery is the only trace of a
                             notification that was never sent, and 'redeliver' needs it
  --store, --config          see 'dli-watch --help'

The SQLite store keeps finished jobs until they are pruned. On DynamoDB the table's time to live
also removes them, dead-lettered or not, 14 days after they finished.
`,
  tick: `Usage: dli-watch tick [--json] [--budget <seconds>]

Runs one cycle: polls the jobs that are due, sends what is owed, prints a summary.
Exits 0 when the cycle ran, even if some jobs or deliveries failed (they are retried later).

Options:
  --json               the summary as one JSON object on stdout
  --budget <seconds>   start no new job after this long (default 50); the rest waits for the next cycle
  --store, --config    see 'dli-watch --help'
`,
  run: `Usage: dli-watch run [--interval <seconds>] [--health-file <path>]

Runs a cycle every interval (default 60 s). SIGINT or SIGTERM stops it after the jobs under way
have finished and recorded what they did, so nothing is lost or sent twice.

Options:
  --interval <seconds>   time between cycle starts (default 60, at least 1)
  --health-file <path>   rewritten with the time after every cycle that did its job, for a
                         supervisor to check its age
  --store, --config      see 'dli-watch --help'
`,
  'test-destination': `Usage: dli-watch test-destination [name]

Sends a clearly marked test message to the destination called <name>, or to every configured
destination, once and without retries, and prints what each platform really answered: accepted,
or its error code and text. Exits 0 when every destination accepted, 1 otherwise.

Options:
  --config <path>   see 'dli-watch --help'
`,
  check: `Usage: dli-watch check [--json]

Validates the environment and the configuration file as 'tick' and 'run' would, with no DLI
credentials needed and no network, and prints every problem at once (exit 2) or what the
configuration amounts to: the store, the destinations (exit 0). Credentials that are set are
checked; absent ones are only noted.

Options:
  --json              the result as one JSON object on stdout
  --config <path>     see 'dli-watch --help'
`,
  demo: `Usage: dli-watch demo

Starts a local DLI simulator and two local receivers (one Slack-like, one Standard Webhooks),
tracks a few jobs that end FINISHED, FAILED and CANCELLED, runs the loop and prints each message
as it arrives. Uses a temporary store and its own destinations, so it needs no configuration
and no network (--store and --config are accepted and not used).
`,
};
