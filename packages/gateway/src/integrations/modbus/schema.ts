// The `modbus_tcp:` and `modbus_client:` schemas live in the browser-safe contract.
export {
  modbusClientConfigSchema,
  modbusClientWriteSchema,
  modbusTcpConfigSchema,
  parseField,
  type ModbusClientConfig,
  type ModbusClientWrite,
  type ModbusTcpConfig,
} from '@openbms/contract';
