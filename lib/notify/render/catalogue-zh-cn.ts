import type { Catalogue } from './catalogue.ts';
import { formatCountIn, formatDurationIntl } from './duration-text.ts';

/** How the DLI console words each status in Chinese; a status DLI adds later is shown as DLI writes it. */
const STATUS_WORD: Record<string, string> = {
  FINISHED: '已完成',
  FAILED: '失败',
  CANCELLED: '已取消',
  RUNNING: '运行中',
  LAUNCHING: '提交中',
  SCALING: '扩容中',
  LONG_RUNNING: '运行时间过长',
  RECOVERED: '已恢复',
};

const statusWord = (status: string) => STATUS_WORD[status] ?? status;

/** Simplified Chinese, for Feishu, DingTalk and WeCom groups above all. */
export const ZH_CN: Catalogue = {
  language: 'zh-CN',
  titles: {
    FINISHED: 'DLI 作业已完成',
    FAILED: 'DLI 作业失败',
    CANCELLED: 'DLI 作业已取消',
    LONG_RUNNING: 'DLI 作业运行时间过长',
    RECOVERED: 'DLI 作业已恢复',
  },
  headline: (facts) => {
    const onQueue = facts.queue === undefined ? '' : `，队列 ${facts.queue}`;
    if (facts.type === 'LONG_RUNNING') {
      return `${facts.emoji} DLI 作业 ${facts.shortJobId} 仍在${statusWord(facts.status)}，已运行 ${facts.runningFor ?? '?'}${onQueue}（告警阈值 ${facts.warnAfter ?? '?'}）`;
    }
    return [
      `${facts.emoji} DLI 作业 ${facts.shortJobId} ${statusWord(facts.type)}`,
      onQueue,
      facts.duration === undefined ? '' : `，耗时 ${facts.duration}`,
      facts.streak === undefined ? '' : `：${facts.streak}`,
    ].join('');
  },
  fields: {
    jobId: '作业 ID',
    runningFor: '已运行',
    warnAfter: '告警阈值',
    streak: '连续失败',
    runKey: '运行键',
    queue: '队列',
    type: '类型',
    owner: '所有者',
    started: '开始时间',
    duration: '耗时',
    rows: '行数',
    resultRows: '结果行数',
    inputSize: '输入大小',
    table: '表',
    tags: '作业标签',
    labels: '跟踪标签',
  },
  rows: (input, bad) =>
    [input === undefined ? '' : `输入 ${input} 行`, bad === undefined ? '' : `错误 ${bad} 行`]
      .filter(Boolean)
      .join('，'),
  streak: (type, failures, day) => {
    if (type === 'RECOVERED') {
      return failures === 1 ? `此前 ${day} 失败 1 次` : `此前连续失败 ${failures} 次（自 ${day} 起）`;
    }
    return failures === 1 ? '首次失败' : `连续第 ${failures} 次失败（自 ${day} 起）`;
  },
  duration: (ms) => formatDurationIntl(ms, 'zh-CN'),
  count: (n) => formatCountIn(n, 'zh-CN'),
  error: '错误信息',
  sql: 'SQL',
  openInConsole: '在 DLI 控制台中打开',
  project: (projectId, region) => `项目 ${projectId} · ${region}`,
  digest: {
    title: (ended, runningLong) => {
      if (runningLong === 0) return `${ended} 个 DLI 作业已结束`;
      if (ended === 0) return `${runningLong} 个 DLI 作业运行时间过长`;
      return `${ended} 个 DLI 作业已结束，${runningLong} 个运行时间过长`;
    },
    count: (emoji, n, type) => `${emoji} ${n} 个${statusWord(type)}`,
    what: (type, status) => (type === 'LONG_RUNNING' ? `仍在${statusWord(status)}` : statusWord(type)),
    more: (hidden) => `… 还有 ${hidden} 个`,
  },
  summary: {
    title: (day) => `DLI 每日摘要 · ${day}`,
    nothingEnded: '没有 DLI 作业结束',
    runningLong: (emoji, n) => `${emoji} ${n} 个仍在运行且已超过告警阈值`,
    headings: {
      queues: '按队列',
      failures: '失败作业',
      longest: '运行最久',
      runningLong: '仍在运行且已超过告警阈值',
    },
    noQueue: '（无队列）',
    threshold: (duration) => `告警阈值 ${duration}`,
  },
  testTitle: '🧪 dli-watch 测试消息：并无 DLI 作业结束',
};
