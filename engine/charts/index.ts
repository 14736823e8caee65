export * from './svg';
export { svgToPng } from './png';
