import { describe, expect, it } from 'vitest';
import { applyPoll, LOST_AFTER_NOT_FOUND } from '../../lib/cycle/transitions.ts';
import { slackDestination, statusResponse, trackedRecord, webhookDestination } from '../support/records.ts';

const destinations = [
  slackDestination('alerts', 'https://hooks.slack.com/services/T/B/x', ['FAILED', 'CANCELLED']),
  webhookDestination('audit', 'https://example.com/dli', null),
];
const context = { now: 50_000, projectId: 'p1', destinations, warnAfterMs: null };

describe('applyPoll', () => {
  it('records an in-progress status without an event', () => {
    const { record, event } = applyPoll(
      trackedRecord('j1'),
      { kind: 'status', job: statusResponse('j1', 'RUNNING') },
      context,
    );
    expect(event).toBeNull();
    expect(record).toMatchObject({
      phase: 'active',
      status: 'RUNNING',
      lastPolledAt: 50_000,
      statusChangedAt: 50_000,
    });
    expect(record.deliveries).toEqual([]);
  });

  it('keeps statusChangedAt when the status stays the same', () => {
    const running = trackedRecord('j1', { status: 'RUNNING', statusChangedAt: 10_000, lastPolledAt: 40_000 });
    const { record } = applyPoll(running, { kind: 'status', job: statusResponse('j1', 'RUNNING') }, context);
    expect(record.statusChangedAt).toBe(10_000);
    expect(record.lastPolledAt).toBe(50_000);
  });

  it('turns a change into a terminal status into one event owed to each destination that wants it', () => {
    const running = trackedRecord('j1', { status: 'RUNNING', labels: { team: 'bi' } });
    const { record, event } = applyPoll(
      running,
      { kind: 'status', job: statusResponse('j1', 'FINISHED') },
      context,
    );
    expect(event).toMatchObject({
      status: 'FINISHED',
      previousStatus: 'RUNNING',
      projectId: 'p1',
      labels: { team: 'bi' },
    });
    expect(record.phase).toBe('terminal');
    expect(record.event).toEqual(event);
    // `alerts` only wants FAILED and CANCELLED.
    expect(record.deliveries.map((delivery) => delivery.destination)).toEqual(['audit']);
    expect(record.deliveries[0]).toMatchObject({
      state: 'pending',
      attempts: 0,
      nextAttemptAt: 50_000,
      createdAt: 50_000,
    });
  });

  it.each(['FAILED', 'CANCELLED'])('sends %s to every destination whose filter includes it', (status) => {
    const { record } = applyPoll(
      trackedRecord('j1', { status: 'RUNNING' }),
      { kind: 'status', job: statusResponse('j1', status) },
      context,
    );
    expect(record.deliveries.map((delivery) => delivery.destination)).toEqual(['alerts', 'audit']);
  });

  it('notifies a job that is already terminal at its first poll, with no previous status', () => {
    const { event, record } = applyPoll(
      trackedRecord('j1'),
      { kind: 'status', job: statusResponse('j1', 'FAILED') },
      context,
    );
    expect(event).toMatchObject({ status: 'FAILED', previousStatus: null });
    expect(record.deliveries).toHaveLength(2);
  });

  it('never polls or notifies a terminal job again', () => {
    const finished = applyPoll(
      trackedRecord('j1', { status: 'RUNNING' }),
      { kind: 'status', job: statusResponse('j1', 'FINISHED') },
      context,
    ).record;
    const again = applyPoll(
      finished,
      { kind: 'status', job: statusResponse('j1', 'FINISHED') },
      { ...context, now: 99_000 },
    );
    expect(again.event).toBeNull();
    expect(again.record).toBe(finished);
  });

  it('counts an unknown status as in progress and flags it for the log', () => {
    const { record, event, unknownStatus } = applyPoll(
      trackedRecord('j1', { status: 'RUNNING' }),
      { kind: 'status', job: statusResponse('j1', 'COMPUTED') },
      context,
    );
    expect(unknownStatus).toBe(true);
    expect(event).toBeNull();
    expect(record).toMatchObject({ phase: 'active', status: 'COMPUTED' });
  });

  it('does not flag documented in-progress statuses as unknown', () => {
    for (const status of ['LAUNCHING', 'RUNNING', 'SCALING']) {
      const result = applyPoll(
        trackedRecord('j1'),
        { kind: 'status', job: statusResponse('j1', status) },
        context,
      );
      expect(result.unknownStatus).toBe(false);
    }
  });

  it(`marks a job lost after ${LOST_AFTER_NOT_FOUND} "not found" answers in a row, and not before`, () => {
    let record = trackedRecord('j1', { status: 'RUNNING' });
    for (let poll = 1; poll < LOST_AFTER_NOT_FOUND; poll += 1) {
      const result = applyPoll(record, { kind: 'not-found' }, context);
      expect(result.becameLost).toBe(false);
      expect(result.record.phase).toBe('active');
      record = result.record;
    }
    const last = applyPoll(record, { kind: 'not-found' }, context);
    expect(last.becameLost).toBe(true);
    expect(last.record).toMatchObject({
      phase: 'lost',
      status: 'RUNNING',
      notFoundCount: LOST_AFTER_NOT_FOUND,
    });
    expect(last.event).toBeNull();
  });

  it('resets the not-found count when DLI knows the job again', () => {
    const twice = trackedRecord('j1', { status: 'RUNNING', notFoundCount: 2 });
    const { record } = applyPoll(twice, { kind: 'status', job: statusResponse('j1', 'RUNNING') }, context);
    expect(record.notFoundCount).toBe(0);
    const missedOnce = applyPoll(record, { kind: 'not-found' }, context);
    expect(missedOnce.record.phase).toBe('active');
  });

  it('gives the same transition the same event id whenever it is seen, and different jobs different ids', () => {
    const poll = (jobId: string, now: number) =>
      applyPoll(
        trackedRecord(jobId),
        { kind: 'status', job: statusResponse(jobId, 'FINISHED') },
        { ...context, now },
      ).event;
    expect(poll('j1', 1)?.id).toBe(poll('j1', 2)?.id);
    expect(poll('j1', 1)?.id).not.toBe(poll('j2', 1)?.id);
  });

  it('keeps every field of the status response in the event, unknown ones included', () => {
    const job = { ...statusResponse('j1', 'FINISHED'), brand_new_field: { nested: true } };
    const { event } = applyPoll(trackedRecord('j1'), { kind: 'status', job }, context);
    expect(event?.job).toEqual(job);
  });
});

describe('applyPoll: warnings and recoveries', () => {
  const START = 1_700_000_000_000;
  const HOUR = 3_600_000;
  const running = statusResponse('j1', 'RUNNING', { start_time: START });
  const watching = [
    ...destinations,
    webhookDestination('ops', 'https://example.com/ops', null, ['FINISHED', 'LONG_RUNNING']),
  ];
  const warnAt = (now: number, record = trackedRecord('j1', { status: 'RUNNING', startTime: START })) =>
    applyPoll(
      record,
      { kind: 'status', job: running },
      { ...context, destinations: watching, now, warnAfterMs: 2 * HOUR },
    );

  it('raises one LONG_RUNNING notice from the threshold on, counted from DLI’s start time', () => {
    expect(warnAt(START + 2 * HOUR - 1).notices).toEqual([]);
    const warned = warnAt(START + 2 * HOUR);
    expect(warned.changed).toBe(true);
    expect(warned.notices).toMatchObject([
      { type: 'LONG_RUNNING', status: 'RUNNING', warning: { thresholdMs: 2 * HOUR, runningForMs: 2 * HOUR } },
    ]);
    expect(warned.record.deliveries.map((delivery) => [delivery.destination, delivery.eventId])).toEqual([
      ['ops', warned.notices[0]?.id],
    ]);
    // Seen again, by this cycle or another: nothing new.
    const again = warnAt(START + 3 * HOUR, warned.record);
    expect(again.notices).toEqual([]);
    expect(again.changed).toBe(false);
    // The same warning has the same id whoever raises it.
    expect(warnAt(START + 2 * HOUR + 5).notices[0]?.id).toBe(warned.notices[0]?.id);
  });

  it('uses the job’s own threshold over the default, and warns nobody without a start time', () => {
    const own = trackedRecord('j1', { status: 'RUNNING', startTime: START, warnAfterMs: HOUR });
    expect(warnAt(START + HOUR, own).notices).toHaveLength(1);
    const noStart = applyPoll(
      trackedRecord('j1'),
      { kind: 'status', job: statusResponse('j1', 'RUNNING', { start_time: undefined }) },
      { ...context, now: START + 5 * HOUR, warnAfterMs: HOUR },
    );
    expect(noStart.notices).toEqual([]);
  });

  it('drops the unsent warning when the job ends, keeping a dead-lettered one', () => {
    const warned = warnAt(START + 2 * HOUR).record;
    const ended = applyPoll(
      warned,
      { kind: 'status', job: statusResponse('j1', 'FINISHED', { start_time: START }) },
      { ...context, destinations: watching, now: START + 3 * HOUR, warnAfterMs: 2 * HOUR },
    );
    expect(ended.droppedWarnings).toBe(1);
    expect(ended.record.deliveries.map((delivery) => [delivery.destination, delivery.eventId])).toEqual([
      ['audit', ended.event?.id],
      ['ops', ended.event?.id],
    ]);
    const dead = {
      ...warned,
      deliveries: warned.deliveries.map((delivery) => ({ ...delivery, state: 'dead' as const })),
    };
    const endedAfterDead = applyPoll(
      dead,
      { kind: 'status', job: statusResponse('j1', 'FINISHED', { start_time: START }) },
      { ...context, destinations: watching, now: START + 3 * HOUR, warnAfterMs: 2 * HOUR },
    );
    expect(endedAfterDead.droppedWarnings).toBe(0);
    expect(endedAfterDead.record.deliveries).toHaveLength(3);
  });

  it('turns a FINISHED run after failures into a recovery for the destinations that ask for it', () => {
    const oncall = slackDestination('oncall', 'https://hooks.slack.com/services/T/B/y', [
      'FAILED',
      'RECOVERED',
    ]);
    const both = slackDestination('both', 'https://hooks.slack.com/services/T/B/z', [
      'FINISHED',
      'RECOVERED',
    ]);
    const streak = {
      key: 'tag:pipeline=nightly',
      run: { jobId: 'j1', status: 'FINISHED' as const, endedAt: START + HOUR, failures: 0, since: null },
      previous: { jobId: 'j0', status: 'FAILED' as const, endedAt: START, failures: 2, since: START - HOUR },
    };
    const { event, notices, record } = applyPoll(
      trackedRecord('j1', { status: 'RUNNING' }),
      { kind: 'status', job: statusResponse('j1', 'FINISHED') },
      { ...context, destinations: [oncall, both, ...destinations], streak },
    );
    expect(notices).toMatchObject([
      {
        type: 'RECOVERED',
        status: 'FINISHED',
        routedTo: ['oncall', 'both'],
        streak: { key: 'tag:pipeline=nightly', failures: 2, since: START - HOUR },
      },
    ]);
    // One message per destination for one run: "both" hears of the recovery, not of the finish as well.
    expect(event?.routedTo).toEqual(['audit']);
    expect(record.deliveries.map((delivery) => delivery.destination)).toEqual(['audit', 'oncall', 'both']);
  });

  it('sends a failure of a key only from the only_after_failures-th in a row; a failure without a key always', () => {
    const pager = {
      ...slackDestination('pager', 'https://hooks.slack.com/services/T/B/p', ['FAILED']),
      onlyAfterFailures: 3,
    };
    const failedRun = (failures: number) => ({
      key: 'sql:abc',
      run: { jobId: 'j1', status: 'FAILED' as const, endedAt: START, failures, since: START - HOUR },
      previous: null,
    });
    const routed = (streak: ReturnType<typeof failedRun> | null) =>
      applyPoll(
        trackedRecord('j1', { status: 'RUNNING' }),
        { kind: 'status', job: statusResponse('j1', 'FAILED') },
        { ...context, destinations: [pager], streak },
      ).event?.routedTo;
    expect(routed(failedRun(2))).toEqual([]);
    expect(routed(failedRun(3))).toEqual(['pager']);
    expect(routed(null)).toEqual(['pager']);
  });
});
