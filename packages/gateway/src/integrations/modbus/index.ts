export {
  ModbusTcpServer,
  ModbusException,
  EXCEPTION,
  type ModbusTcpServerOptions,
  type ModbusTcpServerStatus,
  type MosControl,
  type ModbusLog,
} from './server.js';
export {
  ModbusTcpClient,
  fieldValue,
  registersOf,
  type ModbusTcpClientOptions,
  type ModbusTcpClientStatus,
} from './client.js';
export {
  modbusTcpConfigSchema,
  modbusClientConfigSchema,
  modbusClientWriteSchema,
  parseField,
  type ModbusTcpConfig,
  type ModbusClientConfig,
  type ModbusClientWrite,
} from './schema.js';
export {
  REGISTERS,
  BLOCK_SIZE,
  MOS_REGISTERS,
  encodeBlock,
  encodeValue,
  registerTable,
  widthOf,
  type RegisterDef,
  type RegisterType,
  type RegisterContext,
} from './registers.js';
export { DailyMaxSoc, type DailyMax as ModbusDailyMax } from './daily.js';
