import { stopHarnessServices } from './global-setup';

export default stopHarnessServices;
