/** Strings of the tracker instructions panel (InstructionsPanel.tsx), namespace `trackerInstructions`. */
import type { Strings } from '../../i18n/types';

const strings: Strings = {
  en: {
    title: 'Instructions',
    refresh: 'Refresh',
    armed: 'Anti-theft: armed',
    disarmed: 'Anti-theft: disarmed',
    armedUnknown: 'Anti-theft: not known yet',
    armedSince: 'since {{time}} ({{source}})',
    source: { instruction: 'set by an instruction', report: 'reported by the tracker' },
    kind: {
      locate: 'Locate now',
      restart: 'Restart',
      factory_reset: 'Factory reset',
      arm: 'Arm',
      disarm: 'Disarm',
      air_upgrade: 'Air upgrade',
    },
    airUpgradeOff:
      'Firmware updates over the air are not available yet (they come with the firmware update feature).',
    offlineNote:
      'A tracker that is offline gets the instruction when it connects again, within 10 minutes; after that it expires.',
    confirmResetTitle: 'Reset this tracker to its factory settings?',
    confirmResetBody:
      'The tracker forgets its settings (server address, intervals, alarms). It may stop reporting until it is set up again.',
    confirmReset: 'Reset to factory settings',
    sent: '{{kind}}: queued',
    none: 'No instructions sent yet.',
    col: {
      time: 'Time',
      kind: 'Instruction',
      user: 'By',
      state: 'State',
      reply: 'Reply',
    },
    state: {
      queued: 'Waiting for the tracker',
      sent: 'Sent, waiting for the reply',
      replied: 'Replied',
      failed: 'Failed',
      expired: 'Expired',
    },
    result: {
      ok: 'OK',
      failure: 'The tracker refused',
      message_error: 'The tracker could not read it',
      not_supported: 'Not supported by this tracker',
      no_reply: 'No reply',
      send_failed: 'Could not be sent',
    },
  },
  zh: {
    title: '指令',
    refresh: '刷新',
    armed: '防盗：已设防',
    disarmed: '防盗：已撤防',
    armedUnknown: '防盗：状态未知',
    armedSince: '自 {{time}}（{{source}}）',
    source: { instruction: '由指令设置', report: '由定位器上报' },
    kind: {
      locate: '立即定位',
      restart: '重启',
      factory_reset: '恢复出厂设置',
      arm: '设防',
      disarm: '撤防',
      air_upgrade: '空中升级',
    },
    airUpgradeOff: '暂不支持空中固件升级（将随固件升级功能提供）。',
    offlineNote: '定位器离线时，指令会在其 10 分钟内重新连接时下发；超过时限则过期。',
    confirmResetTitle: '将此定位器恢复出厂设置？',
    confirmResetBody:
      '定位器将清除其设置（服务器地址、上报间隔、报警），在重新配置前可能不再上报。',
    confirmReset: '恢复出厂设置',
    sent: '{{kind}}：已排队',
    none: '尚未下发指令。',
    col: {
      time: '时间',
      kind: '指令',
      user: '操作人',
      state: '状态',
      reply: '回复',
    },
    state: {
      queued: '等待定位器上线',
      sent: '已下发，等待回复',
      replied: '已回复',
      failed: '失败',
      expired: '已过期',
    },
    result: {
      ok: '成功',
      failure: '定位器拒绝执行',
      message_error: '定位器无法解析',
      not_supported: '此定位器不支持',
      no_reply: '无回复',
      send_failed: '无法下发',
    },
  },
};

export default strings;
