import type { Strings } from '../i18n/types';

const strings: Strings = {
  en: {
    title: 'Energy',
    systemTitle: 'Energy of this system',
    days: '30 days',
    months: '12 months',
    range: 'Period shown',
    charged: 'Charged',
    discharged: 'Discharged',
    total: 'Total',
    empty: 'No energy recorded yet.',
    describe:
      'Bar chart of the energy charged (up) and discharged (down) per {{unit}}; the values are listed below.',
    unitDay: 'day',
    unitMonth: 'month',
    zone: 'Days in {{zone}}',
    csv: 'CSV',
    xlsx: 'Excel',
  },
  zh: {
    title: '电量',
    systemTitle: '本系统电量',
    days: '30 天',
    months: '12 个月',
    range: '显示周期',
    charged: '充电',
    discharged: '放电',
    total: '合计',
    empty: '尚无电量记录。',
    describe: '每{{unit}}充电（向上）和放电（向下）电量的柱状图；数值列于下方。',
    unitDay: '天',
    unitMonth: '月',
    zone: '日期按 {{zone}} 时区',
    csv: 'CSV',
    xlsx: 'Excel',
  },
};

export default strings;
