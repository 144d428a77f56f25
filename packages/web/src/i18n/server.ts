/**
 * What the server says, in the reader's language: command results and refusals come with a
 * key and parameters (`text` of a command status, or an error's code and details), and
 * the demo site's default name. A key the server sends that is not here shows the server's
 * English sentence (a newer server may say more than this console knows).
 */
import type { Strings } from './types';

const strings: Strings = {
  en: {
    site: { demo: 'Demo site (simulated)' },
    result: {
      mos_charge_on: 'Charge MOSFET switched on; read back on',
      mos_charge_off: 'Charge MOSFET switched off; read back off',
      mos_discharge_on: 'Discharge MOSFET switched on; read back on',
      mos_discharge_off: 'Discharge MOSFET switched off; read back off',
      soc_set: 'SOC set to {{pct}} %; read back {{soc}} %',
      clock_set: 'Clock set to {{time}} ({{tz}}); read back {{back}}',
      clock_set_unread:
        'Clock set to {{time}} ({{tz}}); acknowledged ({{protocol}} cannot read its clock back)',
      defaults_restored: 'Defaults restored; {{count}} parameter(s) changed {{ids}}',
      defaults_acknowledged: 'Defaults restored (acknowledged)',
      params_held: 'Every value already held; nothing sent',
      params_written: 'Wrote {{values}}; read back equal',
      profile_held: 'The pack already holds the saved profile of {{when}}; nothing sent',
      profile_restored: 'Saved profile of {{when}} restored: {{ids}}',
      records_erased: 'The {{kind}} records were erased on the BMS (acknowledged)',
      inverter_set: 'Inverter protocol set to {{protocol}}; read back equal',
      restart_sent: 'Restart sent; the next polls show the pack coming back',
      factory_reset_sent: 'Factory reset sent; the next polls show the pack coming back',
      shutdown_sent:
        'Shut-down sent; the pack stops answering until it is woken (a flowing current restarts it at once)',
    },
    interlock: {
      charge_mos_off:
        'A discharge current flows: the charge MOSFET cannot be switched off now; bring the current to zero first',
      discharge_mos_off:
        'A charge current flows: the discharge MOSFET cannot be switched off now; bring the current to zero first',
      current_unknown:
        'The pack’s current is not known, so the switch cannot be checked against the interlock',
      calibration_current: 'The current does not allow this calibration now',
    },
    error: {
      PARAM_OUT_OF_RANGE: 'Outside {{min}}..{{max}}',
      PARAM_STEP: 'Not a multiple of {{step}}',
      PARAM_UNSAFE_FOR_CHEMISTRY: 'Beyond the safe limit {{limit}} for this chemistry',
      READBACK_MISMATCH: 'Sent, but the pack reads back another value',
      TRANSPORT_TIMEOUT: 'The pack did not answer in time',
      TRANSPORT_CLOSED: 'The connection to the pack is closed',
      TRANSPORT_OPEN_FAILED: 'The port could not be opened',
      CAPABILITY_MISSING: 'This pack cannot do that',
      COMMAND_UNSUPPORTED: 'This pack cannot do that',
      FORBIDDEN: 'Your role does not allow this',
      NOT_FOUND: 'Not found',
      GATEWAY_UNAVAILABLE: 'The gateway did not answer in time',
      STORAGE_FULL: 'The disk is full',
      RATE_LIMITED: 'Too many attempts; try again later',
      LIMIT_REACHED: 'The organisation has reached its limit; ask the operator to raise it',
      CAPTCHA_REQUIRED: 'Type the characters in the image',
      CAPTCHA_WRONG: 'The characters do not match the image; try this new one',
      SIGNUP_DISABLED: 'Sign-up and password reset by e-mail are not available on this server',
      CODE_INVALID: 'The code is wrong, expired or used; ask for a new one',
    },
  },
  zh: {
    site: { demo: '演示站点（模拟）' },
    result: {
      mos_charge_on: '充电 MOS 已打开；回读为开',
      mos_charge_off: '充电 MOS 已关闭；回读为关',
      mos_discharge_on: '放电 MOS 已打开；回读为开',
      mos_discharge_off: '放电 MOS 已关闭；回读为关',
      soc_set: 'SOC 已设为 {{pct}} %；回读 {{soc}} %',
      clock_set: '时钟已设为 {{time}}（{{tz}}）；回读 {{back}}',
      clock_set_unread: '时钟已设为 {{time}}（{{tz}}）；已确认（{{protocol}} 无法回读时钟）',
      defaults_restored: '已恢复出厂参数；{{count}} 个参数改变 {{ids}}',
      defaults_acknowledged: '已恢复出厂参数（已确认）',
      params_held: '所有值均已一致；未发送',
      params_written: '已写入 {{values}}；回读一致',
      profile_held: '电池包已是 {{when}} 保存的配置；未发送',
      profile_restored: '已恢复 {{when}} 保存的配置：{{ids}}',
      records_erased: 'BMS 上的{{kind}}记录已清除（已确认）',
      inverter_set: '逆变器协议已设为 {{protocol}}；回读一致',
      restart_sent: '已发送重启；随后的轮询会显示电池包恢复',
      factory_reset_sent: '已发送恢复出厂；随后的轮询会显示电池包恢复',
      shutdown_sent: '已发送关机；电池包唤醒前不再应答（有电流流过会立即重启）',
    },
    interlock: {
      charge_mos_off: '正在放电：现在不能关闭充电 MOS；请先把电流降到零',
      discharge_mos_off: '正在充电：现在不能关闭放电 MOS；请先把电流降到零',
      current_unknown: '电池包电流未知，无法按互锁规则检查此开关操作',
      calibration_current: '当前电流不允许进行此校准',
    },
    error: {
      PARAM_OUT_OF_RANGE: '超出 {{min}}..{{max}}',
      PARAM_STEP: '不是 {{step}} 的整数倍',
      PARAM_UNSAFE_FOR_CHEMISTRY: '超出该电芯类型的安全限值 {{limit}}',
      READBACK_MISMATCH: '已发送，但电池包回读的值不同',
      TRANSPORT_TIMEOUT: '电池包未及时应答',
      TRANSPORT_CLOSED: '与电池包的连接已关闭',
      TRANSPORT_OPEN_FAILED: '无法打开端口',
      CAPABILITY_MISSING: '该电池包不支持此操作',
      COMMAND_UNSUPPORTED: '该电池包不支持此操作',
      FORBIDDEN: '您的角色无权执行此操作',
      NOT_FOUND: '未找到',
      GATEWAY_UNAVAILABLE: '网关未及时应答',
      STORAGE_FULL: '磁盘已满',
      RATE_LIMITED: '尝试次数过多，请稍后再试',
      LIMIT_REACHED: '该组织已达到上限，请联系运营方提高上限',
      CAPTCHA_REQUIRED: '请输入图中的字符',
      CAPTCHA_WRONG: '验证码不正确，请按新图片重新输入',
      SIGNUP_DISABLED: '本服务器未开放注册和邮件找回密码',
      CODE_INVALID: '验证码错误、已过期或已使用，请重新获取',
    },
  },
};

export default strings;
