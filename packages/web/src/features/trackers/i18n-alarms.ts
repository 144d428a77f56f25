/**
 * Strings of the geofence and tracker alarm pages (namespace `trackerAlarms`). The alarm
 * names come from the core tracker catalogue (both languages live with the codes).
 */
import { TRACKER_ALARM_CODES } from '@openbms/core';
import type { Strings } from '../../i18n/types';

const names = (zh: boolean) =>
  Object.fromEntries(TRACKER_ALARM_CODES.map((a) => [a.code, zh ? a.labelZh : a.label]));

const strings: Strings = {
  en: {
    code: names(false),
    fences: {
      title: 'Geofences',
      intro:
        'An alarm when a battery enters or leaves an area. Draw a circle (click its centre) or a polygon (click its corners) on the map.',
      none: 'No geofence yet.',
      new: 'New geofence',
      edit: 'Edit “{{name}}”',
      name: 'Name',
      kind: 'Shape',
      circle: 'Circle',
      polygon: 'Polygon',
      radius: 'Radius (m)',
      centre: 'Centre',
      vertices: '{{count}} corners',
      clear: 'Clear the shape',
      undo: 'Remove the last corner',
      alarm: 'Alarm on',
      alarmOn: { enter: 'Entering', exit: 'Leaving', both: 'Entering and leaving' },
      devices: 'Batteries',
      orgWide: 'Every battery of my organisation',
      save: 'Save',
      saving: 'Saving…',
      cancel: 'Cancel',
      delete: 'Delete',
      confirmDelete: 'Delete geofence “{{name}}”?',
      mapLabel: 'Geofence map',
      clickHint: {
        circle: 'Click the map to place the centre.',
        polygon: 'Click the map to add corners (3 to 200).',
      },
      col: { name: 'Name', shape: 'Shape', alarm: 'Alarm', devices: 'Batteries' },
      all: 'all',
      saved: 'Saved.',
    },
    alarms: {
      title: 'Tracker alarms',
      intro:
        'Alarms of the GPS batteries: reported by the tracker (vibration, power cut, battery) or found by a geofence. Click one to see where it happened.',
      from: 'From',
      to: 'To',
      type: 'Type',
      allTypes: 'All types',
      search: 'Device no.',
      none: 'No alarm in this period.',
      col: {
        time: 'Time',
        device: 'Device no.',
        alarm: 'Alarm',
        cleared: 'Cleared',
        place: 'Place',
      },
      active: 'active',
      noPlace: 'no position',
      mapLabel: 'Where the alarm happened',
      settings: 'Alarm settings',
      settingsIntro: 'Switched-off types are left out of this list and of your alarm e-mails.',
      on: 'On',
      off: 'Off',
      saved: 'Alarm settings saved.',
    },
  },
  zh: {
    code: names(true),
    fences: {
      title: '电子围栏',
      intro:
        '电池进入或离开某个区域时报警。在地图上画一个圆（点击圆心）或多边形（依次点击各个顶点）。',
      none: '还没有电子围栏。',
      new: '新建围栏',
      edit: '编辑“{{name}}”',
      name: '名称',
      kind: '形状',
      circle: '圆形',
      polygon: '多边形',
      radius: '半径（米）',
      centre: '圆心',
      vertices: '{{count}} 个顶点',
      clear: '清除形状',
      undo: '删除最后一个顶点',
      alarm: '报警条件',
      alarmOn: { enter: '进入', exit: '离开', both: '进入和离开' },
      devices: '电池',
      orgWide: '本组织的所有电池',
      save: '保存',
      saving: '正在保存…',
      cancel: '取消',
      delete: '删除',
      confirmDelete: '删除围栏“{{name}}”？',
      mapLabel: '围栏地图',
      clickHint: {
        circle: '点击地图放置圆心。',
        polygon: '点击地图添加顶点（3 到 200 个）。',
      },
      col: { name: '名称', shape: '形状', alarm: '报警', devices: '电池' },
      all: '全部',
      saved: '已保存。',
    },
    alarms: {
      title: '定位报警',
      intro:
        'GPS 电池的报警：定位器上报的（震动、断电、电池）或电子围栏发现的。点击一条报警查看发生地点。',
      from: '开始',
      to: '结束',
      type: '类型',
      allTypes: '全部类型',
      search: '设备号',
      none: '此时段没有报警。',
      col: {
        time: '时间',
        device: '设备号',
        alarm: '报警',
        cleared: '解除',
        place: '地点',
      },
      active: '未解除',
      noPlace: '无位置',
      mapLabel: '报警发生地点',
      settings: '报警设置',
      settingsIntro: '关闭的类型不会出现在此列表中，也不会发送报警邮件。',
      on: '开',
      off: '关',
      saved: '报警设置已保存。',
    },
  },
};

export default strings;
